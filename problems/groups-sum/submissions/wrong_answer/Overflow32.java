// groups-sum, wrong answer, expected score 30: correct algorithm, but the sum
// is kept in a 32-bit int. Group 1 answers fit (at most 2.5e8); the big group 2
// answers wrap around (Java int arithmetic is modulo 2^32).
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.StringTokenizer;

public class Overflow32 {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer st = new StringTokenizer(in.readLine());
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = Integer.parseInt(st.nextToken());
        Arrays.sort(a);
        int total = 0, prefix = 0;
        for (int i = 0; i < n; i++) {
            total += a[i] * i - prefix;
            prefix += a[i];
        }
        System.out.println(total);
    }
}
