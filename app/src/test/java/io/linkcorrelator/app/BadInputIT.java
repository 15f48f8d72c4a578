package io.linkcorrelator.app;

import static io.linkcorrelator.app.AppTestKit.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corpus of bad input through the real application: every bad record goes to the dead-letter
 * topic with its original bytes, headers and the reason, or counts as unlinked; every good record
 * is counted; the stream keeps running; the counters report each category.
 */
class BadInputIT {

  private static final AvroSerde<Order> ORDERS = AvroSerde.of(Order.class);
  private static final int GOOD = 100;

  /** Kafka 4 brokers refuse timestamps over an hour ahead by default; a topic may allow them. */
  @AutoClose
  private final EmbeddedKafka kafka =
      EmbeddedKafka.start(
          Map.of(
              "message.max.bytes", String.valueOf(8 * 1024 * 1024),
              "log.message.timestamp.after.max.ms", String.valueOf(Long.MAX_VALUE)));

  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  /** One kind of bad input: how many were sent and what should become of them. */
  record Kind(String name, int tried, String outcome) {}

  @Test
  void badRecordsAreDeadLetteredOrCountedAndEveryGoodRecordIsProcessed() throws Exception {
    AppTestKit.createTopics(kafka);
    Path config =
        AppTestKit.config(
            dir,
            "bad-input",
            "bad-input",
            "correlator.value.schema=classpath:avro/Order.avsc",
            "correlator.aggregate.field=amount",
            "max.request.size=" + 8 * 1024 * 1024,
            "producer.max.request.size=" + 8 * 1024 * 1024);
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    env.put("OTEL_METRICS_EXPORTER", "otlp");
    env.put("OTEL_METRIC_EXPORT_INTERVAL", "500");
    List<ProducerRecord<String, byte[]>> deadLettered = new ArrayList<>();

    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "bad");
        KafkaProducer<String, byte[]> producer = AppTestKit.producer(kafka)) {
      Random random = new Random(11);
      long t = T0 + 1_000;
      for (int i = 0; i < GOOD; i++) {
        producer.send(order("customer-" + (i % 4), i, t + i, traced(i)));
      }
      // Dead-lettered: undecodable values, values of an unknown schema, null keys, tombstones,
      // far-future timestamps.
      for (int i = 0; i < 5; i++) {
        byte[] garbage = new byte[1 + random.nextInt(64)];
        random.nextBytes(garbage);
        deadLettered.add(record("customer-1", garbage, t, traced(1_000 + i)));
      }
      for (int i = 0; i < 3; i++) {
        deadLettered.add(record("customer-1", unknownSchemaValue(i), t, traced(1_100 + i)));
      }
      for (int i = 0; i < 4; i++) {
        deadLettered.add(record(null, ORDERS.serialize("orders", value(i)), t, traced(1_200 + i)));
      }
      for (int i = 0; i < 4; i++) {
        deadLettered.add(record("customer-2", null, t, traced(1_300 + i)));
      }
      for (int i = 0; i < 3; i++) {
        deadLettered.add(
            record(
                "customer-2",
                ORDERS.serialize("orders", value(i)),
                System.currentTimeMillis() + Duration.ofDays(30).toMillis(),
                traced(1_400 + i)));
      }
      deadLettered.forEach(producer::send);
      // Counted as unlinked: 1 MB trace headers, malformed headers of every format, non-UTF-8.
      List<Headers> malformed =
          List.of(
              headers("traceparent", "00-" + "f".repeat(1024 * 1024)),
              headers("traceparent", "x".repeat(1024 * 1024)),
              headers("traceparent", "00-zz-zz-01"),
              headers("x-datadog-trace-id", "-5", "x-datadog-parent-id", "abc"),
              headers("b3", "1-2-3", "X-B3-TraceId", "xyz", "X-B3-SpanId", "1"),
              headers("uber-trace-id", "a:b"));
      for (Headers headers : malformed) {
        producer.send(order("customer-3", 0, t, headers));
      }
      RecordHeaders notUtf8 = new RecordHeaders();
      notUtf8.add("traceparent", new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc3});
      producer.send(order("customer-3", 0, t, notUtf8));
      // Linked, with the 1 MB tracestate dropped.
      Headers bigState = traced(GOOD);
      bigState.add("tracestate", ("k=" + "v".repeat(1024 * 1024)).getBytes(StandardCharsets.UTF_8));
      producer.send(order("customer-3", GOOD, t, bigState));
      producer.flush();

      // Close the first window on every partition, then send records later than its grace.
      for (int partition = 0; partition < 4; partition++) {
        producer.send(
            new ProducerRecord<>(
                AppTestKit.INPUT,
                partition,
                T0 + 15_000,
                "advance",
                ORDERS.serialize("orders", value(0)),
                traced(GOOD + 1 + partition)));
      }
      producer.flush();
      AppTestKit.readResults(
          kafka, "read_committed", Duration.ofSeconds(90), r -> r.size() >= 4, correlator::isAlive);
      for (int i = 0; i < 3; i++) {
        ProducerRecord<String, byte[]> late = order("customer-0", 0, T0 + 2_000, traced(1_500 + i));
        deadLettered.add(late);
        producer.send(late);
      }
      for (int partition = 0; partition < 4; partition++) {
        producer.send(
            new ProducerRecord<>(
                AppTestKit.INPUT,
                partition,
                T0 + 3_600_000L,
                "closer",
                ORDERS.serialize("orders", value(0))));
      }
      producer.flush();

      List<ConsumerRecord<byte[], byte[]>> letters =
          AppTestKit.readDeadLetters(kafka, deadLettered.size());
      List<ConsumerRecord<String, WindowResult>> results =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              Duration.ofSeconds(90),
              r -> r.size() >= 4,
              correlator::isAlive);
      assertThat(correlator.isAlive())
          .as("the stream keeps running; log:%n%s", AppTestKit.log(correlator))
          .isTrue();

      // Every good record counted, unlinked ones too, in the right windows.
      List<WindowResult> first =
          results.stream()
              .map(ConsumerRecord::value)
              .filter(r -> r.getWindowStart().toEpochMilli() == T0)
              .toList();
      assertThat(first.stream().mapToLong(WindowResult::getMessageCount).sum())
          .isEqualTo(GOOD + malformed.size() + 2);
      assertThat(first.stream().mapToLong(WindowResult::getLinkedCount).sum()).isEqualTo(GOOD + 1);
      assertThat(first.stream().mapToLong(WindowResult::getUnlinkedCount).sum())
          .isEqualTo(malformed.size() + 1);
      double expectedSum =
          java.util.stream.IntStream.range(0, GOOD).mapToDouble(BadInputIT::amount).sum()
              + (malformed.size() + 1) * amount(0)
              + amount(GOOD);
      assertThat(first.stream().mapToDouble(WindowResult::getSum).sum())
          .isCloseTo(expectedSum, org.assertj.core.api.Assertions.within(1e-6));

      // Every bad record in the dead-letter topic: original bytes and headers, and the reason.
      assertThat(letters).hasSize(deadLettered.size());
      Map<String, Long> reasons =
          letters.stream()
              .collect(
                  Collectors.groupingBy(
                      r -> AppTestKit.reason(r).substring(0, AppTestKit.reason(r).indexOf(':')),
                      TreeMap::new,
                      Collectors.counting()));
      assertThat(reasons)
          .containsExactlyEntriesOf(
              new TreeMap<>(
                  Map.of(
                      "invalid_key",
                      4L,
                      "invalid_timestamp",
                      3L,
                      "invalid_value",
                      8L,
                      "late",
                      3L,
                      "tombstone",
                      4L)));
      Map<String, ProducerRecord<String, byte[]>> sentByTraceparent =
          deadLettered.stream().collect(Collectors.toMap(BadInputIT::traceparent, r -> r));
      for (ConsumerRecord<byte[], byte[]> letter : letters) {
        ProducerRecord<String, byte[]> sent = sentByTraceparent.get(traceparent(letter.headers()));
        assertThat(sent)
            .as("a record we sent, with its headers: %s", AppTestKit.reason(letter))
            .isNotNull();
        assertThat(letter.value())
            .as("original value of %s", AppTestKit.reason(letter))
            .isEqualTo(sent.value());
        assertThat(letter.key() == null ? null : new String(letter.key(), StandardCharsets.UTF_8))
            .as("original key of %s", AppTestKit.reason(letter))
            .isEqualTo(sent.key());
      }

      // The counters report each category.
      // linked: the good ones, the one with a 1 MB tracestate, the 4 that closed the window;
      // unlinked: the malformed and non-UTF-8 headers, and the 4 closers without headers.
      Map<String, Long> expected =
          Map.of(
              "linked", (long) GOOD + 1 + 4,
              "unlinked", (long) malformed.size() + 1 + 4,
              "invalid_value", 8L,
              "invalid_key", 4L,
              "tombstone", 4L,
              "invalid_timestamp", 3L,
              "late", 3L);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline
          && receiver.counter("correlator.records", "correlator.outcome", "late") < 3) {
        AppTestKit.sleep(Duration.ofMillis(200));
      }
      expected.forEach(
          (outcome, count) ->
              assertThat(receiver.counter("correlator.records", "correlator.outcome", outcome))
                  .as(outcome)
                  .isEqualTo(count));
      correlator.stop();
    }
  }

  private static double amount(int i) {
    return 10 + i;
  }

  private static Order value(int i) {
    return Order.newBuilder()
        .setOrderId("order-" + i)
        .setCustomerId("c")
        .setAmount(amount(i))
        .build();
  }

  private static ProducerRecord<String, byte[]> order(
      String key, int i, long time, Headers headers) {
    return record(key, ORDERS.serialize("orders", value(i)), time, headers);
  }

  private static ProducerRecord<String, byte[]> record(
      String key, byte[] value, long time, Headers headers) {
    return new ProducerRecord<>(AppTestKit.INPUT, null, time, key, value, headers);
  }

  private static Headers traced(int i) {
    String[] ids = AppTestKit.producerSpan(i).split("/");
    return headers("traceparent", "00-" + ids[0] + "-" + ids[1] + "-01");
  }

  private static Headers headers(String... keyValues) {
    RecordHeaders headers = new RecordHeaders();
    for (int i = 0; i < keyValues.length; i += 2) {
      headers.add(keyValues[i], keyValues[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return headers;
  }

  private static byte[] unknownSchemaValue(int i) {
    Schema other =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Payment\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}");
    GenericRecord record = new GenericRecordBuilder(other).set("id", i).build();
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new BinaryMessageEncoder<GenericRecord>(GenericData.get(), other).encode(record, out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String traceparent(ProducerRecord<String, byte[]> record) {
    return traceparent(record.headers());
  }

  private static String traceparent(Headers headers) {
    return new String(headers.lastHeader("traceparent").value(), StandardCharsets.UTF_8);
  }
}
