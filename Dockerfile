# The correlator (and the traffic generator) in a JRE image. Build the jars first:
#   ./mvnw -B -q package -DskipTests
FROM eclipse-temurin:17-jre
# A user of its own (numeric, so that Kubernetes' runAsNonRoot can check it) owning the state dir.
RUN groupadd --system --gid 10001 correlator \
 && useradd --system --uid 10001 --gid correlator --no-create-home --shell /usr/sbin/nologin correlator \
 && mkdir -p /var/lib/link-correlator \
 && chown correlator:correlator /var/lib/link-correlator
WORKDIR /app
COPY app/target/link-correlator.jar /app/link-correlator.jar
COPY demo/target/link-correlator-demo.jar /app/link-correlator-demo.jar
COPY config/correlator.properties /app/correlator.properties
USER 10001:10001
# Kafka Streams' state (RocksDB) lives here; mount a volume to keep it across restarts.
ENV KAFKA_STATE_DIR=/var/lib/link-correlator
# The JVM sizes its heap from the container's memory limit: 60%, leaving the rest to RocksDB (Kafka
# Streams' state stores live off-heap), thread stacks, metaspace and direct buffers. It exits at the
# first OutOfMemoryError, so the orchestrator restarts it instead of keeping a half-working process.
# A fixed heap instead: JAVA_TOOL_OPTIONS=-Xmx2g (an explicit -Xmx wins over MaxRAMPercentage).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=60.0", "-XX:+ExitOnOutOfMemoryError", \
            "-jar", "/app/link-correlator.jar", "/app/correlator.properties"]
