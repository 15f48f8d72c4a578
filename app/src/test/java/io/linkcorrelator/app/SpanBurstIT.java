package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thousand windows of 300 contributors each closing in one burst, through a batch span processor
 * whose queue holds 64 spans (each window needs three: 128 links per span): the spans wait for room
 * instead of being dropped, so every link arrives at the backend, before the window's result is
 * written, and nothing counts as dropped.
 */
class SpanBurstIT {

  private static final int WINDOWS = 1_000;
  private static final int CONTRIBUTORS = 300;
  private static final int MESSAGES = WINDOWS * CONTRIBUTORS;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void aBurstOfClosingWindowsExportsEveryLinkThroughASmallSpanQueueAndDropsNone() throws Exception {
    AppTestKit.createTopics(kafka);
    Path config =
        AppTestKit.config(
            dir,
            "span-burst",
            "span-burst",
            // Every window in one piece of work after the last record: no wall-clock closing.
            "correlator.window.idle.close.ms=0",
            // Results wait for their spans: the links must be there when the results are.
            "correlator.export.flush.timeout.ms=60000");
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    env.put("OTEL_BSP_MAX_QUEUE_SIZE", "64");
    env.put("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "32");
    env.put("OTEL_METRICS_EXPORTER", "otlp");
    env.put("OTEL_METRIC_EXPORT_INTERVAL", "1000");

    // Window w is key customer-w: all its messages have the same event time.
    try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
      for (int i = 0; i < MESSAGES; i++) {
        producer.send(AppTestKit.tracedMessage(i, WINDOWS, 0));
      }
    }
    AppTestKit.closeAllWindows(kafka);

    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "span-burst")) {
      AppTestKit.readResults(
          kafka,
          "read_committed",
          Duration.ofSeconds(150),
          results -> results.size() >= WINDOWS,
          correlator::isAlive);

      // Results are written only after their spans' export: every link is there now.
      Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
      assertThat(linked).as("every message linked; log %s", correlator.log()).hasSize(MESSAGES);
      assertThat(linked.values()).as("each once").containsOnly(1);
      for (int i = 0; i < MESSAGES; i += 997) {
        assertThat(linked).containsKey(AppTestKit.producerSpan(i));
      }
      Map<String, Double> dropped =
          receiver.awaitMetric(
              "correlator.spans.dropped", points -> !points.isEmpty(), Duration.ofSeconds(30));
      assertThat(dropped.values()).as("correlator.spans.dropped").containsOnly(0.0);
      assertThat(receiver.metricPoints("otel.sdk.processor.span.processed"))
          .as("the batch processor dropped nothing for a full queue")
          .allSatisfy(
              (point, value) -> {
                if (point.contains("error.type=queue_full")) {
                  assertThat(value).isZero();
                }
              });
      correlator.stop();
    }
  }
}
