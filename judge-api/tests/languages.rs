//! The language table and sandboxed compilation, through the real sandbox.
//!
//! Needs root (the sandbox creates namespaces, cgroups and mounts). Run it inside a throwaway
//! namespace: `unshare -m -p -f --mount-proc cargo test -p judge-api --test languages`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use judge_api::language::{compile, CompileOutcome, Executable, LanguageError, LanguageTable};
use runner::{Input, Limits, Output, Report, Sandbox, Status};

fn sandbox() -> &'static Sandbox {
    common::sandbox("languages")
}

/// Writes `code` to `<tmp>/<name>` and compiles it with `lang` (by id) into `<tmp>/work`.
fn compile_code(table: &LanguageTable, lang: &str, name: &str, code: &str, tmp: &Path) -> CompileOutcome {
    let src_dir = tmp.join("src");
    fs::create_dir_all(&src_dir).unwrap();
    let src = src_dir.join(name);
    fs::write(&src, code).unwrap();
    let lang = table.get(lang).unwrap_or_else(|| panic!("no language {lang}"));
    compile(sandbox(), lang, &src, &tmp.join("work")).unwrap_or_else(|e| panic!("compile {name}: {e}"))
}

fn limits(memory_mb: u64) -> Limits {
    let cpu = Duration::from_secs(10);
    Limits { cpu_time: cpu, wall_time: Limits::default_wall_for(cpu), memory_bytes: memory_mb << 20, ..Limits::default() }
}

/// Runs the executable with `input` on stdin; returns the report, stdout and stderr.
fn run(exe: &Executable, input: &str, memory_mb: u64, tmp: &Path) -> (Report, String, String) {
    let (inp, out, err) = (tmp.join("in.txt"), tmp.join("out.txt"), tmp.join("err.txt"));
    fs::write(&inp, input).unwrap();
    let mut spec = exe.run_spec(limits(memory_mb));
    spec.stdin = Input::File(inp);
    spec.stdout = Output::File(out.clone());
    spec.stderr = Output::File(err.clone());
    let report = sandbox().run(&spec).unwrap_or_else(|e| panic!("run {:?}: {e}", exe.argv));
    (report, fs::read_to_string(out).unwrap(), fs::read_to_string(err).unwrap())
}

fn compiled(outcome: CompileOutcome) -> Executable {
    assert!(outcome.ok, "compilation failed: {}\nreport: {:?}", outcome.message, outcome.report);
    outcome.executable.expect("ok without an executable")
}

/// A+B in `lang`: compiles, runs with "1 2", expects "3".
fn a_plus_b(lang: &str, name: &str, code: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let table = LanguageTable::builtin();
    let outcome = compile_code(&table, lang, name, code, tmp.path());
    if let Some(r) = &outcome.report {
        eprintln!("{lang} compile: {:?} {} ms cpu, {} ms wall, {} MiB, pids {:?}", r.status, r.cpu_time_ms, r.wall_time_ms, r.memory_bytes >> 20, r.pids_peak);
    }
    let exe = compiled(outcome);
    assert_eq!(exe.language, lang);
    assert!(exe.dir.starts_with(tmp.path()));
    let (report, out, err) = run(&exe, "1 2\n", 256, tmp.path());
    eprintln!("{lang} run: {:?} {} ms cpu, {} ms wall, {} MiB, pids {:?}", report.status, report.cpu_time_ms, report.wall_time_ms, report.memory_bytes >> 20, report.pids_peak);
    assert_eq!(report.status, Status::Ok, "{lang}: {report:?}\nstderr: {err}");
    assert_eq!(out.trim(), "3", "{lang}: stdout {out:?}, stderr {err:?}");
    // Twice, from the same read-only directory.
    let (report, out, _) = run(&exe, "40 2", 256, tmp.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "42"));
}

fn syntax_error(lang: &str, name: &str, code: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = compile_code(&LanguageTable::builtin(), lang, name, code, tmp.path());
    assert!(!outcome.ok, "{lang}: a syntax error compiled: {outcome:?}");
    assert!(outcome.executable.is_none());
    let report = outcome.report.as_ref().expect("the compiler ran");
    eprintln!("{lang} syntax error ({} ms cpu, {} MiB):\n{}", report.cpu_time_ms, report.memory_bytes >> 20, outcome.message);
    assert_eq!(report.status, Status::NonzeroExit, "{lang}: {report:?}\n{}", outcome.message);
    for e in expected {
        assert!(outcome.message.contains(e), "{lang}: message lacks {e:?}:\n{}", outcome.message);
    }
}

// ---------------------------------------------------------------------------------------------
// A+B in each language

#[test]
fn c_a_plus_b() {
    a_plus_b("c", "sum.c", "#include <stdio.h>\nint main(void){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",a+b);return 0;}\n");
}

#[test]
fn cpp_a_plus_b() {
    a_plus_b(
        "cpp",
        "sum.cpp",
        "#include <bits/stdc++.h>\nusing namespace std;\nint main(){long long a,b;cin>>a>>b;vector<long long> v{a,b};\
         cout<<accumulate(v.begin(),v.end(),0LL)<<endl;}\n",
    );
}

#[test]
fn python_a_plus_b() {
    a_plus_b("python", "sum.py", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n");
}

#[test]
fn rust_a_plus_b() {
    a_plus_b(
        "rust",
        "sum.rs",
        "use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();\n\
         let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!(\"{}\", v[0] + v[1]); }\n",
    );
}

#[test]
fn java_a_plus_b() {
    a_plus_b(
        "java",
        "Main.java",
        "import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner s = new Scanner(System.in);\n\
         long x = s.nextLong(), y = s.nextLong(); System.out.println(x + y); } }\n",
    );
}

#[test]
fn java_class_named_after_a_lower_case_file() {
    // Kattis style: hello.java with `public class hello`.
    a_plus_b(
        "java",
        "hello.java",
        "public class hello { public static void main(String[] a) throws Exception {\n\
         java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));\n\
         String[] p = r.readLine().trim().split(\" \"); System.out.println(Long.parseLong(p[0]) + Long.parseLong(p[1])); } }\n",
    );
}

#[test]
fn rust_runs_without_the_toolchain() {
    let table = LanguageTable::builtin();
    let rust = table.get("rust").unwrap();
    assert!(rust.unavailable.is_none(), "{:?}", rust.unavailable);
    let sysroot = &rust.vars["sysroot"];
    assert!(Path::new(sysroot).join("bin/rustc").is_file(), "{sysroot}");
    let c = rust.compile.as_ref().unwrap();
    assert_eq!(c.mounts.len(), 1);
    assert_eq!(c.mounts[0].src, PathBuf::from(sysroot));
    assert!(!c.mounts[0].writable);
    assert!(rust.run.mounts.is_empty(), "the binary needs only libc");
}

// ---------------------------------------------------------------------------------------------
// Compilation errors

#[test]
fn c_syntax_error() {
    syntax_error("c", "bad.c", "int main(void) { return 0 }\n", &["bad.c", "error", "expected ';'"]);
}

#[test]
fn cpp_syntax_error() {
    syntax_error("cpp", "bad.cpp", "int main() { undeclared_thing(); }\n", &["bad.cpp", "error", "undeclared_thing"]);
}

#[test]
fn python_syntax_error() {
    syntax_error("python", "bad.py", "print('hi')\ndef f(:\n    pass\n", &["bad.py", "SyntaxError", "line 2"]);
}

#[test]
fn python_indentation_error() {
    syntax_error("python", "bad.py", "if True:\nprint(1)\n", &["IndentationError"]);
}

#[test]
fn rust_syntax_error() {
    syntax_error("rust", "bad.rs", "fn main() { let x: i32 = \"no\"; }\n", &["error[E0308]", "mismatched types", "bad.rs"]);
}

#[test]
fn java_syntax_error() {
    syntax_error("java", "Main.java", "public class Main { public static void main(String[] a) { int x = } }\n", &["Main.java", "error"]);
}

#[test]
fn java_class_not_named_after_the_file_is_a_compilation_error() {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = compile_code(
        &LanguageTable::builtin(),
        "java",
        "solution.java",
        "class Main { public static void main(String[] a) { System.out.println(1); } }\n",
        tmp.path(),
    );
    assert!(!outcome.ok);
    assert_eq!(outcome.report.as_ref().unwrap().status, Status::Ok);
    assert!(outcome.message.contains("solution.class"), "{}", outcome.message);
}

#[test]
fn runaway_compiler_is_a_compilation_error_not_an_err() {
    // The preprocessor reads /dev/zero until a limit stops it.
    let tmp = tempfile::tempdir().unwrap();
    let outcome = compile_code(&LanguageTable::builtin(), "c", "zero.c", "#include \"/dev/zero\"\nint main(){}\n", tmp.path());
    assert!(!outcome.ok, "{outcome:?}");
    let status = outcome.report.as_ref().unwrap().status;
    eprintln!("runaway compiler: {status:?}: {}", outcome.message);
    assert_ne!(status, Status::Ok);
    assert!(!outcome.message.is_empty());
    assert!(outcome.message.len() <= judge_api::language::MESSAGE_LIMIT);
}

#[test]
fn huge_compiler_output_is_bounded() {
    // Thousands of errors: the message keeps its first 64 KiB.
    let tmp = tempfile::tempdir().unwrap();
    let body: String = (0..3000).map(|i| format!("  undeclared_variable_with_a_long_name_{i} += 1;\n")).collect();
    let code = format!("int main(void) {{\n{body}}}\n");
    let outcome = compile_code(&LanguageTable::builtin(), "c", "many.c", &code, tmp.path());
    assert!(!outcome.ok);
    assert!(outcome.message.len() <= judge_api::language::MESSAGE_LIMIT, "{}", outcome.message.len());
    assert!(outcome.message.len() > 60_000, "{}", outcome.message.len());
    assert!(outcome.message.starts_with("many.c") || outcome.message.contains("undeclared_variable_with_a_long_name"));
}

#[test]
fn no_source_of_the_language_is_a_compilation_error() {
    let tmp = tempfile::tempdir().unwrap();
    let outcome = compile_code(&LanguageTable::builtin(), "java", "Main.py", "print(1)\n", tmp.path());
    assert!(!outcome.ok);
    assert!(outcome.report.is_none());
    assert!(outcome.message.contains(".java"), "{}", outcome.message);
}

// ---------------------------------------------------------------------------------------------
// Java under the box's limits

#[test]
fn java_threads_and_deep_recursion_under_256m() {
    let code = r#"
import java.util.*;
import java.util.concurrent.*;
public class Main {
    static int depth(int n) { return n == 0 ? 0 : 1 + depth(n - 1); }
    static long deep(long n) { return n == 0 ? 0 : n + deep(n - 1); }
    public static void main(String[] args) throws Exception {
        // Recursion on the main thread (-Xss64m).
        System.out.println(depth(200000));
        // A thread with a big stack of its own: the usual contest idiom.
        long[] r = new long[1];
        Thread t = new Thread(null, () -> r[0] = deep(1000000), "deep", 1L << 28);
        t.start(); t.join();
        System.out.println(r[0]);
        // A pool of threads and some heap.
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<Long>> fs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            final int k = i;
            fs.add(pool.submit(() -> { long[] a = new long[1 << 18]; long s = 0; for (int j = 0; j < a.length; j++) { a[j] = j ^ k; s += a[j]; } return s; }));
        }
        long total = 0;
        for (Future<Long> f : fs) total += f.get();
        pool.shutdown();
        System.out.println(total);
        int[] big = new int[24 << 20]; // 96 MiB of heap under -Xmx256m
        big[big.length - 1] = 7;
        System.out.println(big[big.length - 1] + " " + Runtime.getRuntime().maxMemory() / (1 << 20));
    }
}
"#;
    let tmp = tempfile::tempdir().unwrap();
    let exe = compiled(compile_code(&LanguageTable::builtin(), "java", "Main.java", code, tmp.path()));
    assert!(exe.extra_pids > 0);
    let spec = exe.run_spec(limits(256));
    assert!(spec.args.contains(&"-Xmx256m".to_owned()), "{:?}", spec.args);
    assert_eq!(spec.limits.pids, Limits::default().pids + exe.extra_pids);
    let (report, out, err) = run(&exe, "", 256, tmp.path());
    eprintln!("java threads: {report:?}\n{out}");
    assert_eq!(report.status, Status::Ok, "{report:?}\nstdout: {out}\nstderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    let expected_total: i64 = (0..32i64).map(|k| (0..(1i64 << 18)).map(|j| j ^ k).sum::<i64>()).sum();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], "200000");
    assert_eq!(lines[1], "500000500000");
    assert_eq!(lines[2], expected_total.to_string());
    let max_heap: u64 = lines[3].split(' ').nth(1).unwrap().parse().unwrap();
    assert!(lines[3].starts_with("7 ") && max_heap <= 256, "{}", lines[3]);
    assert!(report.memory_bytes <= 256 << 20);
}

#[test]
fn java_heap_beyond_the_limit_is_not_ok() {
    let code = "public class Main { public static void main(String[] a) { long[][] h = new long[64][]; \
                for (int i = 0; i < h.length; i++) h[i] = new long[1 << 20]; System.out.println(h.length); } }\n";
    let tmp = tempfile::tempdir().unwrap();
    let exe = compiled(compile_code(&LanguageTable::builtin(), "java", "Main.java", code, tmp.path()));
    // 512 MiB of longs under a 128 MiB limit: an OutOfMemoryError or a memory-limit kill.
    let (report, out, err) = run(&exe, "", 128, tmp.path());
    eprintln!("java heap: {:?} {} MiB: {err}", report.status, report.memory_bytes >> 20);
    assert!(
        matches!(report.status, Status::MemoryLimit | Status::NonzeroExit),
        "{report:?}\nstdout {out}\nstderr {err}"
    );
    assert!(out.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The table: detection, user files

#[test]
fn detection_by_extension_and_ids() {
    let t = LanguageTable::builtin();
    for (file, id) in [
        ("a.c", "c"),
        ("a.cpp", "cpp"),
        ("a.cc", "cpp"),
        ("a.cxx", "cpp"),
        ("a.c++", "cpp"),
        ("A.CPP", "cpp"),
        ("a.py", "python"),
        ("main.rs", "rust"),
        ("Main.java", "java"),
    ] {
        assert_eq!(t.detect(Path::new(file)).map(|l| l.id.as_str()), Some(id), "{file}");
    }
    assert!(t.detect(Path::new("a.txt")).is_none());
    assert!(t.detect(Path::new("Makefile")).is_none());
    let ids = t.ids();
    for id in ["c", "cpp", "python", "rust", "java"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    assert!(t.get("cobol").is_none());
}

#[test]
fn directory_submission() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("submission");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("add.c"), "long add(long a, long b) { return a + b; }\n").unwrap();
    fs::write(src.join("add.h"), "long add(long a, long b);\n").unwrap();
    fs::write(src.join("main.c"), "#include <stdio.h>\n#include \"add.h\"\nint main(void){long a,b;scanf(\"%ld %ld\",&a,&b);printf(\"%ld\\n\",add(a,b));}\n").unwrap();
    let table = LanguageTable::builtin();
    let lang = table.detect(&src).expect("detected");
    assert_eq!(lang.id, "c");
    let exe = compiled(compile(sandbox(), lang, &src, &tmp.path().join("work")).unwrap());
    let (report, out, _) = run(&exe, "1 2", 64, tmp.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "3"));

    // Python with a module: `main.py` is the main file.
    let py = tmp.path().join("py");
    fs::create_dir(&py).unwrap();
    fs::write(py.join("helper.py"), "def add(a, b):\n    return a + b\n").unwrap();
    fs::write(py.join("main.py"), "import helper\nprint(helper.add(*map(int, input().split())))\n").unwrap();
    let exe = compiled(compile(sandbox(), table.get("python").unwrap(), &py, &tmp.path().join("work2")).unwrap());
    assert!(exe.argv.last().unwrap().ends_with("/main.py"), "{:?}", exe.argv);
    let (report, out, err) = run(&exe, "1 2", 64, tmp.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "3"), "{err}");
}

#[test]
fn user_file_adds_and_overrides_languages() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("languages.toml");
    fs::write(
        &user,
        r#"
[languages.bash]
name = "Bash 5"
extensions = [".sh"]
run = { command = ["/bin/bash", "{src}"], env = { JUDGE_GREETING = "sum" } }

# Override only the command: the limits stay the built-in ones.
[languages.cpp.compile]
command = ["/usr/bin/g++", "-x", "c++", "-std=gnu++17", "-O2", "-DJUDGE_MAGIC=42", "-o", "{exe}", "{srcs}"]

[languages.python]
name = "Python 3 (user)"

[languages.java]
disabled = true
"#,
    )
    .unwrap();
    let builtin = LanguageTable::builtin();
    let table = LanguageTable::builtin().with_file(&user).unwrap();
    assert!(table.get("java").is_none());
    assert!(table.ids().contains(&"bash"));
    assert_eq!(table.get("python").unwrap().name, "Python 3 (user)");
    assert_eq!(table.get("python").unwrap().run, builtin.get("python").unwrap().run);
    let cpp = table.get("cpp").unwrap();
    assert_eq!(cpp.compile.as_ref().unwrap().limits, builtin.get("cpp").unwrap().compile.as_ref().unwrap().limits);
    assert_eq!(table.detect(Path::new("x.sh")).unwrap().id, "bash");
    assert!(table.detect(Path::new("Main.java")).is_none());

    // The new language: no compile step, the script runs from /sub.
    let exe = compiled(compile_code(&table, "bash", "sum.sh", "read a b\necho \"$JUDGE_GREETING $((a + b))\"\n", tmp.path()));
    let (report, out, err) = run(&exe, "1 2\n", 64, tmp.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "sum 3"), "{err}");

    // The overridden one.
    let tmp2 = tempfile::tempdir().unwrap();
    let exe = compiled(compile_code(
        &table,
        "cpp",
        "magic.cpp",
        "#include <iostream>\nint main(){ std::cout << JUDGE_MAGIC << ' ' << __cplusplus << std::endl; }\n",
        tmp2.path(),
    ));
    let (report, out, _) = run(&exe, "", 64, tmp2.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "42 201703"));
}

fn load_err(text: &str) -> (String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("broken-languages.toml");
    fs::write(&path, text).unwrap();
    let err = LanguageTable::builtin().with_file(&path).expect_err("loaded a bad file");
    eprintln!("{err}");
    (err.to_string(), path.display().to_string())
}

#[test]
fn bad_user_files_name_the_file_and_field() {
    // A bad value.
    let (e, file) = load_err("[languages.cpp.compile.limits]\ntime = \"ten\"\n");
    assert!(e.contains(&file), "{e}");
    assert!(e.contains("languages.cpp.compile.limits.time"), "{e}");
    assert!(e.contains("string"), "{e}");
    // A misspelled key.
    let (e, file) = load_err("[languages.cpp]\ncompyle = { command = [\"g++\"] }\n");
    assert!(e.contains(&file) && e.contains("languages.cpp.compyle") && e.contains("unknown field"), "{e}");
    // A new language without a run command.
    let (e, file) = load_err("[languages.bash]\nname = \"Bash\"\nextensions = [\"sh\"]\n");
    assert!(e.contains(&file) && e.contains("languages.bash.run"), "{e}");
    // An unknown placeholder.
    let (e, _) = load_err("[languages.c.run]\ncommand = [\"{exe}\", \"{exe_name}\"]\n");
    assert!(e.contains("languages.c.run.command[1]") && e.contains("{exe_name}"), "{e}");
    // A wrong type deeper down.
    let (e, _) = load_err("[languages.java.run]\nextra_pids = -3\n");
    assert!(e.contains("languages.java.run.extra_pids"), "{e}");
    let (e, _) = load_err("[[languages.c.compile.mounts]]\nsrc = \"relative/dir\"\ndest = \"/opt/x\"\n");
    assert!(e.contains("languages.c.compile.mounts[0].src"), "{e}");
    // TOML syntax: the parser's line and column.
    let (e, file) = load_err("[languages.c\nname = 1\n");
    assert!(e.contains(&file) && e.contains("line 1"), "{e}");
    // A missing file.
    let err = LanguageTable::builtin().with_file(Path::new("/nonexistent/languages.toml")).unwrap_err();
    assert!(matches!(err, LanguageError::Read { .. }) && err.to_string().contains("/nonexistent/languages.toml"));
}

#[test]
fn unresolvable_variable_makes_the_language_unavailable() {
    let table = LanguageTable::builtin()
        .with_toml(
            r#"
[languages.rust.vars.sysroot]
probe = [["/nonexistent/rustc", "--print", "sysroot"]]
paths = ["/nonexistent/toolchain"]
"#,
            "test",
        )
        .unwrap();
    let rust = table.get("rust").unwrap();
    assert!(rust.unavailable.as_deref().is_some_and(|r| r.contains("/nonexistent/toolchain")), "{:?}", rust.unavailable);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("a.rs");
    fs::write(&src, "fn main() {}\n").unwrap();
    let err = compile(sandbox(), rust, &src, &tmp.path().join("work")).unwrap_err();
    assert!(matches!(err, LanguageError::Unavailable { .. }), "{err}");
}

#[test]
fn compile_time_limit_is_a_compilation_error() {
    // g++ needs about a second of CPU for <bits/stdc++.h> at -O2; give it 0.2 s.
    let table = LanguageTable::builtin()
        .with_toml("[languages.cpp.compile.limits]\ntime = 0.2\nwall_time = 5\n", "test")
        .unwrap();
    assert_eq!(table.get("cpp").unwrap().compile.as_ref().unwrap().limits.cpu_time, Duration::from_millis(200));
    let tmp = tempfile::tempdir().unwrap();
    let outcome = compile_code(
        &table,
        "cpp",
        "slow.cpp",
        "#include <bits/stdc++.h>\nint main(){ std::map<int, std::vector<std::string>> m; std::cout << m.size(); }\n",
        tmp.path(),
    );
    assert!(!outcome.ok, "{outcome:?}");
    let status = outcome.report.as_ref().unwrap().status;
    assert!(matches!(status, Status::TimeLimit | Status::WallTimeLimit), "{status:?}");
    assert!(outcome.message.contains("time limit"), "{}", outcome.message);
}

#[test]
fn submission_is_read_only_at_run_time() {
    let tmp = tempfile::tempdir().unwrap();
    let code = "#include <stdio.h>\nint main(void){ FILE *f = fopen(\"/sub/x\", \"w\"); FILE *g = fopen(\"/box/y\", \"w\");\n\
                printf(\"%s %s\\n\", f ? \"sub-writable\" : \"sub-read-only\", g ? \"box-writable\" : \"box-read-only\"); return 0; }\n";
    let exe = compiled(compile_code(&LanguageTable::builtin(), "c", "w.c", code, tmp.path()));
    let (report, out, _) = run(&exe, "", 64, tmp.path());
    assert_eq!((report.status, out.trim()), (Status::Ok, "sub-read-only box-writable"));
    // A run-time exception is the program's failure, not a compilation error.
    let tmp = tempfile::tempdir().unwrap();
    let exe = compiled(compile_code(&LanguageTable::builtin(), "python", "boom.py", "raise ValueError('boom')\n", tmp.path()));
    let (report, _, err) = run(&exe, "", 64, tmp.path());
    assert_eq!(report.status, Status::NonzeroExit);
    assert!(err.contains("ValueError: boom"), "{err}");
}

#[test]
fn source_overlapping_the_work_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("sub");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("a.c"), "int main(){}\n").unwrap();
    let table = LanguageTable::builtin();
    let err = compile(sandbox(), table.get("c").unwrap(), &src, tmp.path()).unwrap_err();
    assert!(matches!(err, LanguageError::Source { .. }), "{err}");
    assert!(src.join("a.c").is_file(), "the source survived");
}

#[test]
fn compiler_output_over_the_output_limit_is_a_compilation_error() {
    // ~2 MiB of diagnostics against a 1 MiB compile output limit.
    let table = LanguageTable::builtin().with_toml("[languages.c.compile.limits]\noutput_mb = 1\n", "test").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let body: String = (0..10000).map(|i| format!("  undeclared_variable_with_a_long_name_{i} += 1;\n")).collect();
    let outcome = compile_code(&table, "c", "many.c", &format!("int main(void) {{\n{body}}}\n"), tmp.path());
    let report = outcome.report.as_ref().unwrap();
    eprintln!("{:?} {:?} {}", report.status, report.signal, report.message);
    assert!(!outcome.ok);
    assert!(outcome.message.len() <= judge_api::language::MESSAGE_LIMIT);
    assert!(fs::metadata(tmp.path().join("work/compile.log")).unwrap().len() <= (1 << 20) + 1);
}
