"""The benchmark (issue 6): the original post's protocol, every runtime side by side with transformers' pipeline.

``python -m bench`` converts the full-size model if needed, measures the machine's matmul
peak, runs each system in its own worker process, measures the levers in onnxruntime, and writes
a table, ``bench.json`` and a PNG plot.
"""
