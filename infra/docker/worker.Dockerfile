# Worker image for Beam's portable runners (Flink, Spark, Dataflow): the Beam Python SDK
# harness, torch and the project's dependencies. The project's own code arrives as a wheel
# through --extra_packages (see infra/runners/*.yaml), so the image changes only with
# dependencies.
#
#   docker build -f infra/docker/worker.Dockerfile -t sentiment-worker:0.1.0-cpu .
#   docker build -f infra/docker/worker.Dockerfile --build-arg VARIANT=cuda -t sentiment-worker:0.1.0-cuda .
ARG VARIANT=cpu
FROM apache/beam_python3.11_sdk:2.77.0
ARG VARIANT
COPY constraints.txt /tmp/constraints.txt
RUN if [ "$VARIANT" = "cuda" ]; then \
        pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 ; \
    else \
        pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu ; \
    fi \
 && grep -v '^torch==' /tmp/constraints.txt > /tmp/deps.txt \
 && pip install --no-cache-dir -r /tmp/deps.txt
