//! Problem packages in the ICPC/Kattis format.
