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


if __name__ == "__main__":
    unittest.main()
