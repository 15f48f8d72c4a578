package io.linkcorrelator.examples.ownaggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.streams.LinkedAggregations;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example on the embedded broker under {@code exactly_once_v2}, exporting real OTLP to the
 * embedded receiver: orders under their own producer spans, re-keyed by customer across two input
 * partitions; every closed window's result carries its aggregate span's context, and that span
 * (with its chunks) links to every order of the window, the order's producer span each.
 */
class OwnAggregateIT {

  private static final String INPUT = "orders";
  private static final String OUTPUT = "customer-totals";
  private static final HexFormat HEX = HexFormat.of();

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path stateDir;

  /** One order sent, with the producer span context it carried. */
  private record Sent(String customer, long cents, long time, String traceId, String spanId) {}

  @Test
  void everyOrderIsLinkedAndEveryResultCarriesItsAggregateContext() throws Exception {
    kafka.createTopic(INPUT, 2);
    kafka.createTopic(OUTPUT, 1);
    Random random = new Random(14);
    long windowMs = OwnAggregateApp.WINDOWS.size();
    long base = (System.currentTimeMillis() - 60_000) / windowMs * windowMs;
    List<Sent> orders = new ArrayList<>();
    for (int i = 0; i < 90; i++) {
      orders.add(
          new Sent(
              "customer-" + random.nextInt(3),
              1 + random.nextInt(10_000),
              base + i * 100L, // three 5-second windows
              HEX.formatHex(bytes(random, 16)),
              HEX.formatHex(bytes(random, 8))));
    }

    Properties props = OwnAggregateApp.streamsProperties(kafka.bootstrapServers());
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    try (OpenTelemetrySdk openTelemetry = OwnAggregateApp.openTelemetry(receiver.httpEndpoint());
        KafkaStreams streams =
            new KafkaStreams(
                OwnAggregateApp.topology(LinkedAggregations.with(openTelemetry), INPUT, OUTPUT),
                props)) {
      streams.start();
      produce(kafka, orders, base + 60_000);

      Map<Windowed<String>, ConsumerRecord<Windowed<String>, CustomerTotals>> results =
          consume(kafka, expectedWindows(orders, windowMs).size());

      assertThat(results.keySet())
          .extracting(windowed -> windowed.key() + "@" + windowed.window().start())
          .containsExactlyInAnyOrderElementsOf(expectedWindows(orders, windowMs));
      for (var entry : results.entrySet()) {
        Windowed<String> window = entry.getKey();
        List<Sent> members =
            orders.stream()
                .filter(order -> order.customer().equals(window.key()))
                .filter(order -> order.time() / windowMs * windowMs == window.window().start())
                .toList();
        assertThat(entry.getValue().value())
            .as("totals of %s", window)
            .isEqualTo(
                new CustomerTotals(
                    members.size(),
                    members.stream().mapToLong(Sent::cents).sum(),
                    members.stream().mapToLong(Sent::cents).max().orElseThrow()));

        String[] traceparent =
            new String(
                    entry.getValue().headers().lastHeader("traceparent").value(),
                    StandardCharsets.UTF_8)
                .split("-");
        List<ReceivedSpan> spans =
            receiver.awaitSpans(
                span -> span.traceId().equals(traceparent[1]), 1, Duration.ofSeconds(30));
        assertThat(spans)
            .as("the output record's context is its aggregate span")
            .anySatisfy(
                span -> {
                  assertThat(span.spanId()).isEqualTo(traceparent[2]);
                  assertThat(span.name()).isEqualTo("aggregate customer-totals");
                });
        Set<String> linked =
            spans.stream()
                .flatMap(span -> span.links().stream())
                .map(link -> link.traceId() + "/" + link.spanId())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(linked)
            .as("links of %s: every order's producer span", window)
            .isEqualTo(
                members.stream()
                    .map(order -> order.traceId() + "/" + order.spanId())
                    .collect(Collectors.toCollection(TreeSet::new)));
      }
    }
  }

  private static Set<String> expectedWindows(List<Sent> orders, long windowMs) {
    return orders.stream()
        .map(order -> order.customer() + "@" + order.time() / windowMs * windowMs)
        .collect(Collectors.toSet());
  }

  private static byte[] bytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    bytes[0] |= 1; // never all zero
    return bytes;
  }

  /** Sends the orders, each under its producer span, then a later order to each partition. */
  private static void produce(EmbeddedKafka kafka, List<Sent> orders, long closeAll) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            props,
            new StringSerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      int id = 0;
      for (Sent order : orders) {
        ProducerRecord<String, byte[]> record =
            new ProducerRecord<>(
                INPUT,
                null,
                order.time(),
                "order-" + id++,
                Order.SERDE
                    .serializer()
                    .serialize(INPUT, new Order(order.customer(), order.cents())));
        record
            .headers()
            .add(
                "traceparent",
                ("00-" + order.traceId() + "-" + order.spanId() + "-01")
                    .getBytes(StandardCharsets.UTF_8));
        producer.send(record);
      }
      // Stream time after the repartition is the slowest input partition's: move both past the
      // windows' end plus grace.
      for (int partition = 0; partition < 2; partition++) {
        producer.send(
            new ProducerRecord<>(
                INPUT,
                partition,
                closeAll,
                "closer",
                Order.SERDE.serializer().serialize(INPUT, new Order("closer", 0))));
      }
      producer.flush();
    }
  }

  /** Reads committed results until {@code count} windows of the orders' customers arrived. */
  private static Map<Windowed<String>, ConsumerRecord<Windowed<String>, CustomerTotals>> consume(
      EmbeddedKafka kafka, int count) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "own-aggregate-it");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<Windowed<String>, ConsumerRecord<Windowed<String>, CustomerTotals>> results =
        new HashMap<>();
    try (KafkaConsumer<Windowed<String>, CustomerTotals> consumer =
        new KafkaConsumer<>(
            props,
            WindowedSerdes.timeWindowedSerdeFrom(String.class, OwnAggregateApp.WINDOWS.size())
                .deserializer(),
            CustomerTotals.SERDE.deserializer())) {
      consumer.subscribe(List.of(OUTPUT));
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (results.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<Windowed<String>, CustomerTotals> record :
            consumer.poll(Duration.ofMillis(500))) {
          if (record.key().key().equals("closer")) {
            continue; // its window closes only by idleness, whenever the test has run that long
          }
          assertThat(results.put(record.key(), record))
              .as("one result per window: %s", record.key())
              .isNull();
        }
      }
    }
    return results;
  }
}
