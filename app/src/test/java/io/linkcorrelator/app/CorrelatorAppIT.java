package io.linkcorrelator.app;

import static io.linkcorrelator.app.AppTestKit.producerSpan;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End to end: the correlator's real main, configuration file and environment, in its own JVM,
 * against a real broker with a 4-partition input topic, exporting over real OTLP to the receiver.
 */
class CorrelatorAppIT {

  private static final int MESSAGES = 2_000;
  private static final int KEYS = 10;
  private static final int WINDOWS = 5;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Http", "Grpc"})
  void everyProducerSpanIsLinkedExactlyOnceAndEveryResultNamesAReceivedSpan(String transport)
      throws Exception {
    AppTestKit.createTopics(kafka);
    Path config =
        AppTestKit.config(
            dir, "e2e", "e2e-" + transport.toLowerCase(), "correlator.links.per.span.max=64");
    Map<String, String> env = AppTestKit.env(kafka, receiver, transport.equals("Grpc"));
    env.put("OTEL_SERVICE_NAME", "correlator-e2e");

    List<ConsumerRecord<String, WindowResult>> results;
    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "correlator")) {
      AppTestKit.send(kafka, 0, MESSAGES, KEYS, WINDOWS * 10_000L / MESSAGES);
      AppTestKit.closeAllWindows(kafka);
      results =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              Duration.ofSeconds(120),
              r -> r.size() >= KEYS * WINDOWS,
              correlator::isAlive);
      // 143 = 128 + SIGTERM: the JVM's exit status after its shutdown hooks ran to the end.
      assertThat(correlator.stop()).as("exit on SIGTERM; log: %s", correlator.log()).isEqualTo(143);
      assertThat(Files.readString(correlator.log()))
          .as("Kafka Streams closed, then spans flushed")
          .containsSubsequence(
              "stopping: closing Kafka Streams", "stopping: flushing spans", "stopped");
    }

    assertThat(results).hasSize(KEYS * WINDOWS);
    assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum())
        .isEqualTo(MESSAGES);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(spans).allSatisfy(span -> assertThat(span.droppedLinksCount()).isZero());
    assertThat(spans)
        .allSatisfy(
            span ->
                assertThat(span.resourceAttributes())
                    .containsEntry("service.name", "correlator-e2e"));
    Map<String, Integer> linked = AppTestKit.linkCounts(spans);
    assertThat(linked.keySet())
        .containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, MESSAGES).mapToObj(AppTestKit::producerSpan).toList());
    assertThat(linked.values()).as("each producer span linked exactly once").containsOnly(1);
    Set<String> aggregates = new HashSet<>();
    for (ConsumerRecord<String, WindowResult> result : results) {
      String[] traceparent =
          new String(result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)
              .split("-");
      assertThat(spans)
          .as("a received aggregate span for %s", String.join("-", traceparent))
          .anySatisfy(
              span -> {
                assertThat(span.traceId()).isEqualTo(traceparent[1]);
                assertThat(span.spanId()).isEqualTo(traceparent[2]);
                assertThat(span.parentSpanId()).isEmpty();
                assertThat(span.name()).isEqualTo("aggregate orders");
              });
      aggregates.add(traceparent[2]);
    }
    assertThat(aggregates).hasSize(KEYS * WINDOWS);
    assertThat(producerSpan(0)).isIn(linked.keySet());
  }
}
