package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.schemas.WindowResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JSON input through the real application: orders grouped by a nested field and their amounts
 * summed, every producer span linked; values that are not JSON or lack a field dead-lettered with
 * the reason, while the stream goes on.
 */
class JsonValuesIT {

  private static final int ORDERS = 400;
  private static final int CUSTOMERS = 4;
  private static final int WINDOWS = 2;

  /**
   * One partition: grouping by a field repartitions, and with one partition the far-future closer
   * reaches the window step after every order (with several, it could overtake orders of another
   * partition on their way through the repartition topic and make them late).
   */
  private static final String INPUT = "json-orders";

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  /** Order {@code i}: customer {@code i % CUSTOMERS}, amount {@code i} cents, in JSON. */
  private static String order(int i) {
    return "{\"orderId\":\"o-"
        + i
        + "\",\"customer\":{\"id\":\"customer-"
        + (i % CUSTOMERS)
        + "\"},\"amount\":"
        + (i / 100.0)
        + "}";
  }

  private static ProducerRecord<String, byte[]> withValue(int i, long time, String value) {
    ProducerRecord<String, byte[]> traced = AppTestKit.tracedMessage(i, CUSTOMERS, 0);
    return new ProducerRecord<>(
        INPUT, null, time, traced.key(), value.getBytes(StandardCharsets.UTF_8), traced.headers());
  }

  @Test
  void groupsByAJsonFieldSumsItsNumbersAndDeadLettersBadJsonWithTheReason() throws Exception {
    kafka.createTopic(INPUT, 1);
    kafka.createTopics(1, AppTestKit.OUTPUT, AppTestKit.DEAD_LETTERS);
    Path config =
        AppTestKit.config(
            dir,
            "json",
            "json-values",
            "correlator.input.topics=" + INPUT,
            "correlator.value.format=json",
            "correlator.group.by=field:customer.id",
            "correlator.aggregate.field=/amount");
    long step = WINDOWS * 10_000L / ORDERS;
    Map<String, Double> sums = new HashMap<>();
    List<String> bad =
        List.of(
            "order 7, not JSON",
            "{\"customer\":{\"id\":\"customer-1\"},\"amount\":",
            "{\"amount\":5}",
            "{\"customer\":{\"id\":\"customer-1\"}}",
            "{\"customer\":{\"id\":\"customer-1\"},\"amount\":\"5\"}");

    List<ConsumerRecord<String, WindowResult>> results;
    try (CorrelatorProcess correlator =
        CorrelatorProcess.start(config, AppTestKit.env(kafka, receiver, false), "json")) {
      try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
        for (int i = 0; i < ORDERS; i++) {
          producer.send(withValue(i, AppTestKit.T0 + i * step, order(i)));
          sums.merge("customer-" + (i % CUSTOMERS), i / 100.0, Double::sum);
        }
        for (int b = 0; b < bad.size(); b++) {
          producer.send(withValue(ORDERS + b, AppTestKit.T0 + b, bad.get(b)));
        }
        producer.send(
            new ProducerRecord<>(
                INPUT,
                null,
                AppTestKit.T0 + 3_600_000L,
                "closer",
                "{\"customer\":{\"id\":\"closer\"},\"amount\":0}"
                    .getBytes(StandardCharsets.UTF_8)));
      }
      results =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              Duration.ofSeconds(120),
              r -> r.size() >= CUSTOMERS * WINDOWS,
              correlator::isAlive);
      assertThat(correlator.stop()).as("exit on SIGTERM; log: %s", correlator.log()).isEqualTo(143);
    }

    assertThat(results).hasSize(CUSTOMERS * WINDOWS);
    Map<String, Double> summed =
        results.stream()
            .collect(
                Collectors.groupingBy(
                    ConsumerRecord::key, Collectors.summingDouble(r -> r.value().getSum())));
    assertThat(summed.keySet()).containsExactlyInAnyOrderElementsOf(sums.keySet());
    sums.forEach(
        (customer, sum) ->
            assertThat(summed.get(customer)).as(customer).isCloseTo(sum, within(1e-9)));
    assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum())
        .isEqualTo(ORDERS);
    Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
    assertThat(linked.keySet())
        .containsAll(IntStream.range(0, ORDERS).mapToObj(AppTestKit::producerSpan).toList());

    List<ConsumerRecord<byte[], byte[]>> letters = AppTestKit.readDeadLetters(kafka, bad.size());
    assertThat(letters)
        .extracting(letter -> new String(letter.value(), StandardCharsets.UTF_8))
        .as("the original values")
        .containsExactlyInAnyOrderElementsOf(bad);
    Map<String, String> reasons =
        letters.stream()
            .collect(
                Collectors.toMap(
                    letter -> new String(letter.value(), StandardCharsets.UTF_8),
                    AppTestKit::reason));
    assertThat(reasons.get(bad.get(0))).startsWith("invalid_value: not JSON: Unrecognized token");
    assertThat(reasons.get(bad.get(1))).startsWith("invalid_value: not JSON: Unexpected end");
    assertThat(reasons.get(bad.get(2)))
        .isEqualTo("invalid_key: no group key (value field customer.id missing or null)");
    assertThat(reasons.get(bad.get(3))).isEqualTo("invalid_value: no field /amount");
    assertThat(reasons.get(bad.get(4)))
        .isEqualTo("invalid_value: field /amount is string, not a JSON number");
  }
}
