# The workbench image: web (gunicorn), worker and beat (celery) run from it.
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    WORKBENCH_VAR_DIR=/var/lib/workbench

# WeasyPrint (PDF reports) needs Pango; the fonts cover every script we show.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-noto-core fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system workbench && useradd --system --gid workbench --home /app workbench \
    && mkdir -p /var/lib/workbench/media /var/lib/workbench/static \
    && chown -R workbench:workbench /var/lib/workbench

WORKDIR /app
COPY pyproject.toml README.md ./
COPY workbench ./workbench
COPY annotations ./annotations
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && WORKBENCH_ENV=production SECRET_KEY=build-only python manage.py collectstatic --no-input -v0

USER workbench
EXPOSE 8000
# Request lines up to 8,190 bytes (gunicorn allows 4,094): an API filter on a long article URL.
CMD ["gunicorn", "workbench.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--limit-request-line", "8190", "--access-logfile", "-"]
