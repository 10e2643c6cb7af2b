# The bot with its index, CPU only. Build: docker build -t article-qa-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    SEEDS_DIR=/seeds \
    DATA_DIR=/data \
    WEBHOOK_LISTEN=0.0.0.0 \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464

WORKDIR /app

# The CPU build of torch first: from PyPI, torch==2.13.0 for Linux is a multi-GB CUDA build.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY index ./index
COPY bot ./bot
RUN pip install .

# Named volumes start with the image's content: the shipped articles seed /seeds.
COPY seeds /seeds
RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /data \
    && chown -R bot:bot /data /seeds
USER bot
VOLUME ["/data", "/seeds"]
EXPOSE 9464

# Healthy once the bot has loaded its index and model (/healthz: 503 while the first start
# builds the index from /seeds, 200 after). No proxy for this local request; no curl in -slim.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/healthz' % (os.environ.get('METRICS_PORT') or '9464'), timeout=4)" || exit 1

CMD ["python", "-m", "bot"]
