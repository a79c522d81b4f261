//! MSAL Python (from PyPI, unmodified) against `mock-entra --tls`: runs
//! `tests/msal/run.sh`. Needs python3 and PyPI; set `ENTRA_SKIP_MSAL=1` to skip.

use std::process::Command;

#[test]
fn msal_python_against_mock_entra_tls() {
    if std::env::var("ENTRA_SKIP_MSAL").is_ok_and(|v| v == "1") {
        eprintln!("msal_python_against_mock_entra_tls: skipped (ENTRA_SKIP_MSAL=1)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/msal/run.sh");
    let started = std::time::Instant::now();
    let out = Command::new("bash")
        .arg(script)
        .env("MOCK_ENTRA_BIN", env!("CARGO_BIN_EXE_mock-entra"))
        .env("MSAL_VENV", concat!(env!("CARGO_TARGET_TMPDIR"), "/msal-venv"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hint = "install python3 with venv (Debian: apt-get install python3-venv) and let pip reach \
                PyPI, or set ENTRA_SKIP_MSAL=1 to skip this test";
    match out.status.code() {
        Some(0) => println!("{stdout}(MSAL checks took {:.1} s)", started.elapsed().as_secs_f64()),
        Some(3) => panic!("the MSAL test needs python3: {stderr}\n{hint}"),
        Some(4) => panic!("the MSAL test could not install msal from PyPI: {stderr}\n{hint}"),
        code => panic!("MSAL Python against mock-entra failed ({code:?}):\n{stdout}\n{stderr}"),
    }
}
