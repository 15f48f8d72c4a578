package io.linkcorrelator.demo;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the window results as the correlator commits them and prints one line per result, once its
 * aggregate span's links have arrived at the receiver (or after a few seconds, saying so).
 */
final class ResultPrinter implements AutoCloseable {

  private static final long WAIT_FOR_SPANS_NANOS = Duration.ofSeconds(5).toNanos();

  private record Pending(WindowResult result, long since) {}

  private final KafkaConsumer<String, WindowResult> consumer;
  private final OtlpReceiver receiver;
  private final SentOrders sent;
  private final List<Pending> pending = new ArrayList<>();
  private int windows;
  private int windowsMissingLinks;
  private long counted;
  private long expectedLinks;
  private long arrivedLinks;

  ResultPrinter(EmbeddedKafka kafka, OtlpReceiver receiver, SentOrders sent) {
    this.receiver = receiver;
    this.sent = sent;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "demo-printer",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
            new StringDeserializer(),
            AvroSerde.of(WindowResult.class).deserializer());
    consumer.subscribe(List.of(Demo.WINDOWS));
  }

  void poll(Duration timeout) {
    consumer
        .poll(timeout)
        .forEach(
            record -> {
              counted += record.value().getMessageCount();
              pending.add(new Pending(record.value(), System.nanoTime()));
            });
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      if (tryPrint(it.next())) {
        it.remove();
      }
    }
  }

  void drain(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    do {
      poll(Duration.ofMillis(200));
    } while (!pending.isEmpty() && System.nanoTime() < deadline);
    pending.forEach(p -> print(p.result(), -1, 0));
    pending.clear();
  }

  private boolean tryPrint(Pending pending) {
    WindowResult result = pending.result();
    List<TrafficGenerator.Sent> orders =
        sent.inWindow(
            result.getGroupKey(),
            result.getWindowStart().toEpochMilli(),
            result.getWindowEnd().toEpochMilli());
    if (receiver == null) {
      print(result, -1, orders.size());
      return true;
    }
    Set<String> links = new HashSet<>();
    for (ReceivedSpan span : receiver.spansOfTrace(result.getTraceId())) {
      span.links().forEach(link -> links.add(link.traceId() + "/" + link.spanId()));
    }
    long linked =
        orders.stream()
            .filter(
                o ->
                    links.contains(
                        o.producerSpan().getTraceId() + "/" + o.producerSpan().getSpanId()))
            .count();
    boolean complete = linked == orders.size() && links.size() >= result.getLinkedCount();
    if (!complete && System.nanoTime() - pending.since() < WAIT_FOR_SPANS_NANOS) {
      return false;
    }
    print(result, linked, orders.size());
    return true;
  }

  private void print(WindowResult result, long linked, int orders) {
    windows++;
    expectedLinks += orders;
    arrivedLinks += Math.max(0, linked);
    if (linked >= 0 && linked < orders) {
      windowsMissingLinks++;
    }
    String links =
        linked < 0
            ? result.getLinkedCount() + " links exported"
            : linked + "/" + orders + " producer spans arrived as links";
    System.out.printf(
        "window %s-%s  %-10s  %3d orders  sum %9.2f  trace %s  %s%n",
        time(result.getWindowStart().toEpochMilli()),
        time(result.getWindowEnd().toEpochMilli()),
        result.getGroupKey(),
        result.getMessageCount(),
        result.getSum() == null ? 0 : result.getSum(),
        result.getTraceId(),
        links);
  }

  private static final java.time.format.DateTimeFormatter TIME =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss");

  private static String time(long epochMillis) {
    return TIME.format(
        java.time.Instant.ofEpochMilli(epochMillis).atZone(ZoneId.systemDefault()).toLocalTime());
  }

  int windows() {
    return windows;
  }

  /** Orders counted in the results read so far (printed or still waiting for their spans). */
  long counted() {
    return counted;
  }

  /** Printed windows of which some producer span did not arrive as a link (0 without receiver). */
  int windowsMissingLinks() {
    return windowsMissingLinks;
  }

  String linkSummary() {
    return receiver == null
        ? "spans exported to the configured endpoint"
        : arrivedLinks + "/" + expectedLinks + " producer spans of closed windows arrived as links";
  }

  @Override
  public void close() {
    consumer.close();
  }
}
