# 讲稿助手 — two commands: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# llama.cpp must be built for portable CPU features: a native build segfaults on these CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install model index test-system bench clean-index

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "== 安装依赖（首次约 1–5 分钟：llama-cpp-python 需从源码编译）"
	@start=$$(date +%s); \
	$(BIN)/pip install -q --upgrade pip && \
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -q -e ".[local,test]" && \
	echo "   依赖安装用时 $$(( $$(date +%s) - start )) 秒"
	@touch $@

install: $(STAMP)

model: install
	@$(BIN)/speech-assistant fetch-model >/dev/null

index: install
	@$(BIN)/speech-assistant ingest

run: model
	@$(BIN)/python app.py

# test-only system packages from Debian: chromium + CJK fonts (browser tests), PostgreSQL (shared session storage)
test-system:
	@{ command -v chromium && dpkg -s fonts-noto-cjk && dpkg -s postgresql; } >/dev/null 2>&1 || { \
	  echo "== 安装测试用的 Debian 软件包：chromium、中文字体、PostgreSQL"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk postgresql >/dev/null) \
	  || echo "   安装失败：浏览器测试和 PostgreSQL 测试将被跳过"; }

test: model test-system
	@$(BIN)/python -m pytest -q -p no:cacheprovider; code=$$?; \
	if [ $$code -eq 5 ]; then echo "no tests ran"; exit 1; fi; exit $$code

bench: model
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-index:
	rm -rf data/chroma data/keyword data/vectors data/passages data/manifest.json
