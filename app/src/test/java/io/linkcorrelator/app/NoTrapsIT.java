package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.schemas.WindowResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up and run-time traps an operator would hit, tried on the real application. */
class NoTrapsIT {

  private static final int MESSAGES = 300;
  private static final int KEYS = 3;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void aPodWithKubernetesServiceLinksAndAFleetWideSamplerStartsCleanlyAndLinksEveryMessage()
      throws Exception {
    AppTestKit.createTopics(kafka);
    Path config = AppTestKit.config(dir, "k8s", "k8s-env");
    Map<String, String> env = AppTestKit.env(kafka, receiver, true);
    // What Kubernetes injects into a pod for the Services "correlator" and "kafka".
    env.put("CORRELATOR_SERVICE_HOST", "10.96.0.12");
    env.put("CORRELATOR_SERVICE_PORT", "8080");
    env.put("CORRELATOR_SERVICE_PORT_HEALTH", "8080");
    env.put("CORRELATOR_PORT", "tcp://10.96.0.12:8080");
    env.put("CORRELATOR_PORT_8080_TCP", "tcp://10.96.0.12:8080");
    env.put("CORRELATOR_PORT_8080_TCP_PROTO", "tcp");
    env.put("CORRELATOR_PORT_8080_TCP_PORT", "8080");
    env.put("CORRELATOR_PORT_8080_TCP_ADDR", "10.96.0.12");
    env.put("KAFKA_SERVICE_HOST", "10.96.0.20");
    env.put("KAFKA_SERVICE_PORT", "9092");
    env.put("KAFKA_PORT", "tcp://10.96.0.20:9092");
    env.put("KAFKA_PORT_9092_TCP", "tcp://10.96.0.20:9092");
    env.put("KAFKA_PORT_9092_TCP_ADDR", "10.96.0.20");
    // A fleet-wide sampler that would keep no trace at all.
    env.put("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
    env.put("OTEL_TRACES_SAMPLER_ARG", "0");

    List<ConsumerRecord<String, WindowResult>> results;
    String log;
    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "k8s-env")) {
      AppTestKit.send(kafka, 0, MESSAGES, KEYS, 20_000L / MESSAGES);
      AppTestKit.closeAllWindows(kafka);
      results =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              Duration.ofSeconds(120),
              r -> r.size() >= KEYS * 2,
              correlator::isAlive);
      assertThat(correlator.stop()).as("exit on SIGTERM; log: %s", correlator.log()).isEqualTo(143);
      log = Files.readString(correlator.log());
    }

    assertThat(results).hasSize(KEYS * 2);
    assertThat(log)
        .doesNotContain("configuration error")
        .doesNotContain("ignoring environment variable")
        .doesNotContain("'port' was supplied")
        .doesNotContain("'service.host' was supplied")
        .contains("OTEL_TRACES_SAMPLER=parentbased_traceidratio is not used");
    Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
    assertThat(linked.keySet())
        .as("every producer span linked although the fleet's sampler keeps nothing")
        .containsExactlyInAnyOrderElementsOf(
            IntStream.range(0, MESSAGES).mapToObj(AppTestKit::producerSpan).toList());
  }

  @Test
  void aStreamThreadThatKeepsFailingIsReplacedABoundedNumberOfTimesThenTheProcessExitsNonZero()
      throws Exception {
    AppTestKit.createTopics(kafka);
    // An operator's choice that makes a bad record fatal: every thread that reads it dies.
    Path config =
        AppTestKit.config(
            dir,
            "failing",
            "failing-thread",
            "processing.exception.handler="
                + "org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler",
            "correlator.thread.replacements.max=2",
            "correlator.thread.replacements.interval.ms=600000");
    try (CorrelatorProcess correlator =
        CorrelatorProcess.start(config, AppTestKit.env(kafka, receiver, false), "failing-thread")) {
      try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
        producer.send(
            new ProducerRecord<>(AppTestKit.INPUT, 0, AppTestKit.T0, "customer-0", (byte[]) null));
      }

      int exit = correlator.awaitExit(Duration.ofSeconds(180));

      String log = Files.readString(correlator.log());
      assertThat(exit).as("exit status; log: %s", correlator.log()).isEqualTo(1);
      assertThat(log)
          .containsSubsequence(
              "replacing it (1 of at most 2 replacements per 600000 ms)",
              "replacing it (2 of at most 2 replacements per 600000 ms)",
              "a stream thread failed after 2 replacements within 600000 ms; shutting Kafka"
                  + " Streams down",
              "Kafka Streams is in ERROR and will not recover; stopping");
      assertThat(log).doesNotContain("replacing it (3 of");
    }
  }
}
