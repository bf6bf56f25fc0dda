// guess, accepted: binary search; System.out.println + flush after each guess.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class Guess {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int lo = 1, hi = 1000;
        while (true) {
            int g = (lo + hi) / 2;
            System.out.println(g);
            System.out.flush();
            String reply = in.readLine();
            if (reply == null || reply.trim().equals("correct")) return;
            if (reply.trim().equals("lower")) hi = g - 1; else lo = g + 1;
        }
    }
}
