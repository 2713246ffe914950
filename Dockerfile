# One image for both roles: `wendu api` and `wendu worker` (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WENDU_HOME=/var/lib/wendu

WORKDIR /app

# The package folders, as mapped in pyproject.toml ([tool.setuptools.package-dir]).
COPY pyproject.toml README.md ./
COPY wendu ./wendu
COPY rules ./rules
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY store ./store
COPY scorers ./scorers
COPY templates ./templates
COPY channels ./channels

RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/wendu --create-home wendu

USER wendu
EXPOSE 8000

CMD ["wendu", "api", "--host", "0.0.0.0", "--port", "8000"]
