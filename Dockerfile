# The chatbot in a container. Data (knowledge bases, logs) lives in the /data volume.
#   docker build -t chatbot .
#   docker run --rm -v chatbot-data:/data -v "$PWD/docs:/docs:ro" chatbot ingest /docs
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CHATBOT_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app
# The CPU build of torch: PyPI's default Linux wheel carries several GB of CUDA libraries.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
COPY knowledge ./knowledge
COPY prompts ./prompts
RUN pip install .

RUN useradd --create-home --uid 10001 chatbot && mkdir /data && chown chatbot /data
USER chatbot
VOLUME ["/data"]
ENTRYPOINT ["chatbot"]
CMD ["--help"]
