import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# after a matmul large enough for OpenBLAS to use its pool: the variable as torch saw it, and the process's threads
PROBE = ("import trainer, os, torch; torch.randn(1024, 1024) @ torch.randn(1024, 1024); "
         "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')), 'openblas' in open('/proc/self/maps').read())")


def probe(env):
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    value, threads, openblas = out.stdout.split()
    return value, int(threads), openblas == "True"


@unittest.skipUnless(os.path.isdir("/proc/self/task"), "reads /proc")
class OpenBlasThreadsTest(unittest.TestCase):
    def test_one_openblas_thread_unless_the_environment_says(self):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        value, threads, openblas = probe(env)
        self.assertEqual(value, "1")
        own_value, own_threads, _ = probe({**env, "OPENBLAS_NUM_THREADS": "3"})
        self.assertEqual(own_value, "3")
        if openblas and (os.cpu_count() or 1) > 1:
            # OpenBLAS starts its pool's workers only when allowed more than one thread
            self.assertLess(threads, own_threads)


class OpenBlasCoreTypeTest(unittest.TestCase):
    def test_kernels_from_the_cpu_features(self):
        from trainer import openblas_coretype
        line = "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 "
        self.assertEqual(openblas_coretype(line + "avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl\n"), "SkylakeX")
        self.assertEqual(openblas_coretype(line + "avx avx2 fma avx512f\n"), "Haswell")  # AVX-512 without BW, VL, DQ, CD
        self.assertEqual(openblas_coretype("processor\t: 0\n" + line + "avx avx2 fma\n"), "Haswell")
        self.assertIsNone(openblas_coretype(line + "avx\n"))
        self.assertIsNone(openblas_coretype("Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"))  # ARM
        self.assertIsNone(openblas_coretype(""))

    @unittest.skipUnless(os.path.exists("/proc/cpuinfo"), "reads /proc/cpuinfo")
    def test_openblas_runs_the_kernels_the_cpu_allows_unless_the_environment_says(self):
        # the core OpenBLAS runs, as it reports it (None without OpenBLAS: an MKL build)
        probe = "import trainer, os, torch, trainer.device; torch.randn(8, 8) @ torch.randn(8, 8); " \
                "print(os.environ.get('OPENBLAS_CORETYPE'), trainer.device.openblas_core())"

        def run(env):
            return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()

        from trainer import openblas_coretype
        with open("/proc/cpuinfo") as f:
            expected = openblas_coretype(f.read())
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        chosen, core = run(env)
        self.assertEqual(chosen, str(expected))
        if expected is not None and core != "None":
            self.assertEqual(core, expected)  # OpenBLAS took it (Debian 12's guessed "Prescott" on this machine's Xeon)
        own, own_core = run({**env, "OPENBLAS_CORETYPE": "Haswell"})
        self.assertEqual(own, "Haswell")
        if core != "None" and expected is not None:
            self.assertEqual(own_core, "Haswell")


if __name__ == "__main__":
    unittest.main()
