import unittest

import torch

from trainer.device import choose_device, detect_device


class DeviceChoiceTest(unittest.TestCase):
    def test_auto_takes_cuda_when_there_is_one_with_bf16_where_supported(self):
        self.assertEqual(choose_device("auto", cuda_available=True, bf16_supported=True), ("cuda", torch.bfloat16))
        self.assertEqual(choose_device("auto", cuda_available=True, bf16_supported=False), ("cuda", torch.float32))
        self.assertEqual(choose_device("auto", cuda_available=False, bf16_supported=False), ("cpu", torch.float32))

    def test_explicit_choices(self):
        self.assertEqual(choose_device("cpu", cuda_available=True, bf16_supported=True), ("cpu", torch.float32))
        self.assertEqual(choose_device("cuda", cuda_available=True, bf16_supported=True), ("cuda", torch.bfloat16))
        with self.assertRaisesRegex(ValueError, "no CUDA device"):
            choose_device("cuda", cuda_available=False, bf16_supported=False)
        with self.assertRaisesRegex(ValueError, "unknown device"):
            choose_device("tpu", cuda_available=False, bf16_supported=False)

    def test_this_machine(self):
        device, dtype = detect_device("auto")
        self.assertEqual(device, "cuda" if torch.cuda.is_available() else "cpu")
        self.assertIn(dtype, (torch.float32, torch.bfloat16))


if __name__ == "__main__":
    unittest.main()
