# One image for every app process of docker-compose.yml: the worker (default command), the API and
# one-shot CLI jobs (migrations, `dormant import`, `dormant scan`, `dormant owners add`). Configuration
# comes only from the environment (config/settings.py), so the same image runs everywhere.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the distribution needs: never .data/, .env or a local venv.
COPY pyproject.toml README.md worker.py ./
COPY reactivation/ reactivation/
COPY config/ config/
COPY client/ client/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY db/ db/
COPY dormant/ dormant/
RUN pip install . && useradd --create-home --uid 10001 app

USER app
EXPOSE 8000
CMD ["python", "worker.py"]
