// testlib-check, run time error: off-by-one loop bound throws
// ArrayIndexOutOfBoundsException; the JVM exits with status 1.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class ArrayIndex {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer st = new StringTokenizer(in.readLine());
        long[] a = new long[n];
        for (int i = 0; i <= n; i++) a[i] = Long.parseLong(st.nextToken());
        System.out.println(a[0]);
    }
}
