// any-pair, accepted: sorts positions by value and uses two pointers, starting
// from the largest values (a different pair than pair.c on many tests).
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

public class AnyPair {
    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(System.in);
        String[] tok = new String(in.readAllBytes()).trim().split("\\s+");
        int n = Integer.parseInt(tok[0]);
        long s = Long.parseLong(tok[1]);
        long[] a = new long[n];
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            a[i] = Long.parseLong(tok[i + 2]);
            idx[i] = i;
        }
        Arrays.sort(idx, (p, q) -> Long.compare(a[q], a[p]));  // descending
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            long sum = a[idx[lo]] + a[idx[hi]];
            if (sum == s) {
                System.out.println((idx[hi] + 1) + " " + (idx[lo] + 1));
                return;
            }
            if (sum > s) lo++; else hi--;
        }
    }
}
