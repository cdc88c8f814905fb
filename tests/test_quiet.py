"""helpers.quiet: TensorFlow's known start-up lines are dropped, everything else written to fd 2 still shows."""
import os
import subprocess
import sys

from helpers import config, quiet

ABSL = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
ONEDNN = ("I0000 00:00:1795996697.453569    3972 port.cc:153] oneDNN custom operations are on. You may see "
          "slightly different numerical results due to floating-point round-off errors.\n")
NO_DRIVER = "I0000 00:00:1795996697.453943    3972 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
CUINIT = ("E0000 00:00:1795996700.832522    3972 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
          "Failed call to cuInit: UNKNOWN ERROR (303)\n")
CPU_GUARD = ("I0000 00:00:1795996697.5    3972 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use "
             "available CPU instructions in performance-critical operations.\n"
             "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with "
             "the appropriate compiler flags.\n")
REAL_ERROR = "E0000 00:00:1795996700.9    3972 some_kernel.cc:12] something real went wrong\n"


def test_known_noise_is_dropped_and_the_rest_kept_in_order():
    text = ABSL + ONEDNN + "a line of its own\n" + CPU_GUARD + NO_DRIVER + CUINIT + REAL_ERROR
    patterns = quiet.noise_patterns(has_driver=False)
    assert quiet.drop_noise(text, patterns) == "a line of its own\n" + REAL_ERROR


def test_gpu_lines_are_kept_where_a_driver_is_installed():
    patterns = quiet.noise_patterns(has_driver=True)
    assert quiet.drop_noise(ABSL + ONEDNN + NO_DRIVER + CUINIT, patterns) == NO_DRIVER + CUINIT


def test_cuinit_other_than_no_device_is_kept():
    other = CUINIT.replace("UNKNOWN ERROR (303)", "CUDA_ERROR_OUT_OF_MEMORY (2)")
    assert quiet.drop_noise(other, quiet.noise_patterns(has_driver=False)) == other


def test_native_writes_to_fd2_are_filtered(capfd):
    shown = []
    with quiet.native_stderr_filtered(quiet.noise_patterns(has_driver=False), write=shown.append):
        os.write(2, (ABSL + ONEDNN + REAL_ERROR).encode())
    assert shown == [REAL_ERROR]
    os.write(2, b"after the block\n")  # fd 2 is restored
    assert capfd.readouterr().err == "after the block\n"


def test_nothing_written_back_when_all_is_noise(capfd):
    shown = []
    with quiet.native_stderr_filtered(quiet.noise_patterns(has_driver=False), write=shown.append):
        os.write(2, (ABSL + ONEDNN + NO_DRIVER + CUINIT).encode())
    assert shown == []
    assert capfd.readouterr().err == ""


def test_setup_prints_only_the_banner_in_a_fresh_process(tmp_path):
    """The first cell's call, in a new interpreter as a kernel would run it: one banner line, no stderr."""
    env = {**os.environ, "PYTHONPATH": str(config.repo_root()), "COURSE_DATA_DIR": str(tmp_path),
           "COURSE_PROFILE": "quick"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # helpers sets it; the pre-absl lines ignore it anyway
    done = subprocess.run([sys.executable, "-c", "import helpers; helpers.setup_notebook()"], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    assert done.stdout.startswith("Profile: quick") and done.stdout.count("\n") == 1, done.stdout


def test_korean_setup_prints_only_the_korean_banner_and_selects_a_hangul_font(tmp_path):
    """The Korean notebooks' set-up cell in a new interpreter: the banner in Korean, NanumGothic for figures, and not a
    word on stderr (koreanize_matplotlib's own DeprecationWarning included, shown here with -W default)."""
    env = {**os.environ, "PYTHONPATH": str(config.repo_root()), "COURSE_DATA_DIR": str(tmp_path),
           "COURSE_PROFILE": "quick", "COURSE_LANG": "en"}  # the set-up cell's lang="ko" decides
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    code = ('import helpers; helpers.setup_notebook(lang="ko"); import matplotlib; '
            'print(matplotlib.rcParams["font.family"][0])')
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    banner, font = done.stdout.splitlines()
    assert banner.startswith("프로필: quick") and font == "NanumGothic", done.stdout
