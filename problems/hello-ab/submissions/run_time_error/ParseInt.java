// hello-ab, run time error: Integer.parseInt throws NumberFormatException for
// values beyond 32 bits, so the JVM exits with a non-zero status on large tests
// (the small samples pass).
import java.util.Scanner;

public class ParseInt {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int a = Integer.parseInt(in.next());
        int b = Integer.parseInt(in.next());
        System.out.println((long) a + (long) b);
    }
}
