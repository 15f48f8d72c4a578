package io.linkcorrelator.app;

import static io.linkcorrelator.app.AppTestKit.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.streams.DeadLetterHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four input partitions meet in the repartition topic (grouped by a header) and progress unevenly:
 * partition 3 is held back for several seconds after the application runs, partition 2 goes silent
 * early. Through the runnable jar: every record is linked, none is dead-lettered as late, and the
 * silent partition's windows, like the last ones, close once the traffic stops. A record that does
 * arrive late afterwards is dead-lettered with headers naming its original message.
 */
class UnevenPartitionsIT {

  private static final int PER_PARTITION = 100;
  private static final int QUIET = 40;
  private static final long STEP_MS = 400;
  private static final int CUSTOMERS = 5;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void aLaggingPartitionLosesNoRecordAndASilentPartitionsWindowsClose() throws Exception {
    AppTestKit.createTopics(kafka);
    Path config =
        AppTestKit.config(
            dir,
            "uneven",
            "uneven",
            "correlator.group.by=header:customer",
            "correlator.partition.idle.ms=8000",
            "correlator.window.idle.close.ms=12000");
    List<ProducerRecord<String, byte[]>> early = new ArrayList<>();
    List<ProducerRecord<String, byte[]>> heldBack = new ArrayList<>();
    for (int j = 0; j < PER_PARTITION; j++) {
      for (int partition : new int[] {0, 1, 3}) {
        (partition == 3 ? heldBack : early).add(message(partition, j, "customer-" + j % 5));
      }
      if (j < QUIET) {
        early.add(message(2, j, "quiet-" + j % 2)); // partition 2 goes silent at T0 + 15.6 s
      }
    }
    int total = early.size() + heldBack.size();

    List<ConsumerRecord<String, WindowResult>> results;
    try (CorrelatorProcess correlator =
        CorrelatorProcess.start(config, AppTestKit.env(kafka, receiver, false), "uneven")) {
      send(kafka, early);
      awaitRunning(correlator);
      AppTestKit.sleep(Duration.ofSeconds(4)); // partition 3 is held back while the others run
      send(kafka, heldBack);
      results = readResults(kafka, total, correlator);
      assertThat(deadLetters(kafka, 0)).as("none dead-lettered as late").isEmpty();

      // Its windows closed, a record for them is late: its dead letter names the original.
      ProducerRecord<String, byte[]> late = message(1, PER_PARTITION, "customer-0");
      send(
          kafka,
          List.of(
              new ProducerRecord<>(late.topic(), 1, T0, late.key(), late.value(), late.headers())));
      ConsumerRecord<byte[], byte[]> letter = deadLetters(kafka, 1).get(0);
      assertThat(header(letter, DeadLetterHandler.TOPIC)).isEqualTo(AppTestKit.INPUT);
      assertThat(header(letter, DeadLetterHandler.PARTITION)).isEqualTo("1");
      assertThat(header(letter, DeadLetterHandler.OFFSET)).isEqualTo(String.valueOf(PER_PARTITION));
      assertThat(header(letter, "__streams.errors.topic"))
          .endsWith("correlator-regroup-repartition");
      assertThat(correlator.stop()).as("log: %s", correlator.log()).isEqualTo(143);
    }

    assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum())
        .as("every record counted in a window")
        .isEqualTo(total);
    assertThat(results.stream().map(ConsumerRecord::key).collect(Collectors.toSet()))
        .contains("quiet-0", "quiet-1");
    assertThat(results).hasSize(CUSTOMERS * 4 + 2 * 2);
    Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
    List<String> sent = new ArrayList<>();
    early.forEach(r -> sent.add(producerSpan(r)));
    heldBack.forEach(r -> sent.add(producerSpan(r)));
    assertThat(linked.keySet()).containsExactlyInAnyOrderElementsOf(sent);
    assertThat(linked.values()).as("each producer span linked exactly once").containsOnly(1);
  }

  /** Message j of a partition: event time T0 + j * 400 ms, grouped by its customer header. */
  private static ProducerRecord<String, byte[]> message(int partition, int j, String customer) {
    ProducerRecord<String, byte[]> traced = AppTestKit.tracedMessage(partition * 1_000 + j, 1, 0);
    traced.headers().add("customer", customer.getBytes(StandardCharsets.UTF_8));
    return new ProducerRecord<>(
        AppTestKit.INPUT, partition, T0 + j * STEP_MS, "m-" + j, traced.value(), traced.headers());
  }

  private static String producerSpan(ProducerRecord<String, byte[]> record) {
    String order = new String(record.value(), StandardCharsets.UTF_8);
    return AppTestKit.producerSpan(Integer.parseInt(order.substring("order-".length())));
  }

  private static void send(EmbeddedKafka kafka, List<ProducerRecord<String, byte[]>> records) {
    try (KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
      records.forEach(producer::send);
    }
  }

  private static void awaitRunning(CorrelatorProcess correlator) throws Exception {
    String running = "-> " + KafkaStreams.State.RUNNING;
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!Files.readString(correlator.log()).contains(running)) {
      assertThat(System.nanoTime())
          .as("running within 90 s; log: %s", correlator.log())
          .isLessThan(deadline);
      assertThat(correlator.isAlive()).as("log: %s", correlator.log()).isTrue();
      AppTestKit.sleep(Duration.ofMillis(200));
    }
  }

  /** Results until every record is counted (or the correlator stops). */
  private static List<ConsumerRecord<String, WindowResult>> readResults(
      EmbeddedKafka kafka, int total, CorrelatorProcess correlator) {
    List<ConsumerRecord<String, WindowResult>> results = new ArrayList<>();
    try (KafkaConsumer<String, WindowResult> consumer =
        AppTestKit.resultConsumer(kafka, "read_committed")) {
      consumer.subscribe(List.of(AppTestKit.OUTPUT));
      long counted = 0;
      // A guard against waiting forever, not a measure: the assertions on the results decide.
      long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
      while (counted < total && correlator.isAlive() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, WindowResult> result : consumer.poll(Duration.ofMillis(250))) {
          results.add(result);
          counted += result.value().getMessageCount();
        }
      }
    }
    return results;
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  /** The dead letters, once there are at least {@code expected}: all up to the topic's end. */
  private static List<ConsumerRecord<byte[], byte[]>> deadLetters(
      EmbeddedKafka kafka, int expected) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "dead-letters-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(AppTestKit.DEAD_LETTERS));
      List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
      // Assigned and read to the end: the topic's end offset is what the consumer reached.
      while (consumer.assignment().isEmpty()) {
        consumer.poll(Duration.ofMillis(250)).forEach(letters::add);
      }
      Map<org.apache.kafka.common.TopicPartition, Long> end =
          consumer.endOffsets(consumer.assignment());
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // a guard only
      while (letters.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(250)).forEach(letters::add);
      }
      while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
        consumer.poll(Duration.ofMillis(250)).forEach(letters::add);
      }
      return letters;
    }
  }
}
