# jusou application image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# WeasyPrint (the printed forms as PDF) draws text with Pango and subsets fonts with HarfBuzz; the forms
# are set in Noto Sans CJK JP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
RUN pip install .

COPY . .
# Static files are collected at build time (whitenoise serves them); the key below exists only
# for this build step and is never used at run time.
RUN DEBUG=false SECRET_KEY=collectstatic-build-step-only-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && useradd --system --home-dir /app jusou && mkdir -p /var/lib/jusou/media && chown -R jusou /var/lib/jusou
USER jusou

EXPOSE 8000
CMD ["gunicorn", "-c", "python:jusou.gunicorn", "jusou.wsgi:application"]
