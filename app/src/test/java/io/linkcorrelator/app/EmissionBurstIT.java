package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of windows closing at once, under exactly-once, with a backend that answers every export
 * only after seconds: emission is cut into bounded pieces (each waiting for its own spans' export),
 * so no transaction stays open long enough to be aborted, no task is fenced and replayed, and every
 * window's result and span arrive exactly once.
 */
class EmissionBurstIT {

  private static final String INPUT = "burst-orders";
  private static final int WINDOWS = 4_000;
  private static final Duration SLOW_EXPORT = Duration.ofMillis(1_500);

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void aBurstOfClosingWindowsUnderExactlyOnceWithASlowBackendEmitsEachWindowOnce()
      throws Exception {
    kafka.createTopic(INPUT, 1);
    kafka.createTopics(1, AppTestKit.OUTPUT, AppTestKit.DEAD_LETTERS);
    receiver.delayTraceResponses(SLOW_EXPORT);
    Path config =
        AppTestKit.config(
            dir,
            "burst",
            "emission-burst",
            "correlator.input.topics=" + INPUT,
            "correlator.window.size.ms=1000",
            "correlator.window.grace.ms=0",
            // Results wait for their spans however slow the backend: the wait is what is bounded.
            "correlator.export.flush.timeout.ms=60000",
            // Kafka Streams' default under exactly-once is 10 s; shorter, so that a transaction
            // held open across the burst's exports (seven pieces of about 650 windows, four
            // export batches of 200 spans, 1.5 s each) would outlast it, while each piece, whose
            // export the thread does not wait for and whose results are committed before the
            // next piece starts, stays well within it.
            "producer.transaction.timeout.ms=6000");
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    env.put("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200");
    env.put("OTEL_BSP_MAX_QUEUE_SIZE", "20000");

    try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
      for (int i = 0; i < WINDOWS; i++) {
        ProducerRecord<String, byte[]> record =
            new ProducerRecord<>(
                INPUT,
                0,
                AppTestKit.T0 + i % 1000,
                "customer-" + i,
                ("order-" + i).getBytes(StandardCharsets.UTF_8));
        String[] ids = AppTestKit.producerSpan(i).split("/");
        record
            .headers()
            .add(
                "traceparent",
                ("00-" + ids[0] + "-" + ids[1] + "-01").getBytes(StandardCharsets.UTF_8));
        producer.send(record);
      }
      // One record far ahead closes all of them at once.
      producer.send(
          new ProducerRecord<>(INPUT, 0, AppTestKit.T0 + 3_600_000L, "closer", new byte[] {1}));
    }

    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "burst")) {
      AppTestKit.readResults(
          kafka,
          "read_committed",
          Duration.ofSeconds(240),
          r -> r.size() >= WINDOWS,
          correlator::isAlive);
      // Read everything again, a little longer: a duplicate, were there one, would show.
      List<ConsumerRecord<String, WindowResult>> results =
          AppTestKit.readResults(
              kafka, "read_committed", Duration.ofSeconds(10), r -> r.size() > WINDOWS, () -> true);
      String log = AppTestKit.log(correlator);

      Map<String, Long> perKey =
          results.stream()
              .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
      assertThat(perKey).as("one result per window; log %s", correlator.log()).hasSize(WINDOWS);
      assertThat(perKey.values()).as("no result written twice").containsOnly(1L);
      assertThat(log)
          .as("no transaction aborted, no task fenced or migrated")
          .doesNotContain("TaskMigratedException")
          .doesNotContain("ProducerFencedException")
          .doesNotContain("InvalidProducerEpochException");

      List<ReceivedSpan> aggregates =
          receiver.awaitSpans(
              span ->
                  span.name().equals("aggregate " + INPUT)
                      && !span.attributes()
                          .getOrDefault("correlator.group_key", "")
                          .equals("closer"),
              WINDOWS,
              Duration.ofSeconds(60));
      Map<String, Long> perSpan =
          aggregates.stream()
              .collect(Collectors.groupingBy(ReceivedSpan::spanId, Collectors.counting()));
      assertThat(perSpan).as("one aggregate span per window").hasSize(WINDOWS);
      assertThat(perSpan.values()).as("no span exported twice").containsOnly(1L);
      assertThat(
              results.stream()
                  .map(ConsumerRecord::value)
                  .collect(Collectors.toMap(WindowResult::getSpanId, Function.identity()))
                  .keySet())
          .isEqualTo(perSpan.keySet());
      correlator.stop();
    }
  }
}
