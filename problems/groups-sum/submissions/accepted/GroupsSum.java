// groups-sum, accepted: Arrays.sort on long[] and prefix sums in long.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.StringTokenizer;

public class GroupsSum {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer st = new StringTokenizer(in.readLine());
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = Long.parseLong(st.nextToken());
        Arrays.sort(a);
        long total = 0, prefix = 0;
        for (int i = 0; i < n; i++) {
            total += a[i] * i - prefix;
            prefix += a[i];
        }
        System.out.println(total);
    }
}
