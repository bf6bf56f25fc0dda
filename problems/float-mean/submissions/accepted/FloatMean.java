// float-mean, accepted: Java's %e format with an explicit exponent sign
// (e.g. "1.500000000000e+00"); Locale.ROOT keeps the decimal point a '.'.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Locale;
import java.util.StringTokenizer;

public class FloatMean {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer st = new StringTokenizer(in.readLine());
        long[] a = new long[n];
        long sum = 0;
        for (int i = 0; i < n; i++) {
            a[i] = Long.parseLong(st.nextToken());
            sum += a[i];
        }
        double mean = (double) sum / n, sq = 0;
        for (long x : a) sq += (x - mean) * (x - mean);
        System.out.println(String.format(Locale.ROOT, "%.12e %.12e", mean, Math.sqrt(sq / n)));
    }
}
