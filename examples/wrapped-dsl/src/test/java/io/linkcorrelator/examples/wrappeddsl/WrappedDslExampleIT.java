package io.linkcorrelator.examples.wrappeddsl;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example on a real broker under exactly-once with the OTLP receiver: every page view is linked
 * from the span of the count it is in, and every count record carries that span.
 */
class WrappedDslExampleIT {

  private static final long T0 = 1_700_000_000_000L; // a multiple of 10 s: windows start here
  private static final int VIEWS = 60;

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path stateDir;

  @Test
  void linksEveryPageViewFromTheSpanOfItsWindowCountAndTheCountCarriesThatSpan() throws Exception {
    try (OpenTelemetrySdk openTelemetry =
        WrappedDslExample.openTelemetry(receiver.httpTracesUrl())) {
      kafka.createTopic(PageViewCounts.PAGE_VIEWS, 1);
      kafka.createTopic(PageViewCounts.COUNTS, 1);
      Properties props = WrappedDslExample.settings(kafka.bootstrapServers(), openTelemetry);
      props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
      props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
      props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);

      Map<String, Set<String>> viewSpansByWindow = new HashMap<>(); // "user start" -> span ids
      try (KafkaStreams streams = WrappedDslExample.start(props);
          KafkaProducer<String, String> producer =
              new KafkaProducer<>(
                  Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                  new StringSerializer(),
                  new StringSerializer())) {
        for (int i = 0; i <= VIEWS + 2; i++) {
          String user = "user-" + i % 3;
          long time = i < VIEWS ? T0 + i * 500L : T0 + 600_000L; // the last three close the rest
          String spanId = HexFormat.of().toHexDigits(0x1000L + i);
          ProducerRecord<String, String> view =
              new ProducerRecord<>(PageViewCounts.PAGE_VIEWS, null, time, user, "/page/" + i);
          view.headers()
              .add(
                  "traceparent",
                  ("00-" + "ab".repeat(8) + spanId + "-" + spanId + "-01")
                      .getBytes(StandardCharsets.UTF_8));
          producer.send(view);
          if (i < VIEWS) {
            viewSpansByWindow
                .computeIfAbsent(
                    user + " " + Instant.ofEpochMilli(time - (time - T0) % 10_000),
                    k -> new HashSet<>())
                .add(spanId);
          }
        }
        producer.flush();

        List<ConsumerRecord<String, String>> counts = read(kafka, viewSpansByWindow.size());
        openTelemetry.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);

        assertThat(counts).hasSize(viewSpansByWindow.size());
        for (ConsumerRecord<String, String> count : counts) {
          String[] value = count.value().split(" "); // user, window start, count, "views"
          Set<String> views = viewSpansByWindow.get(value[0] + " " + value[1]);
          assertThat(Integer.parseInt(value[2])).isEqualTo(views.size());
          String[] traceparent =
              new String(count.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8)
                  .split("-");
          List<ReceivedSpan> spans =
              receiver.awaitSpans(
                  span -> span.spanId().equals(traceparent[2]), 1, Duration.ofSeconds(30));
          assertThat(spans.get(0).traceId()).isEqualTo(traceparent[1]);
          Set<String> linked = new HashSet<>();
          receiver
              .spansOfTrace(traceparent[1])
              .forEach(span -> span.links().forEach(link -> linked.add(link.spanId())));
          assertThat(linked).as("links of %s", count.value()).isEqualTo(views);
        }
      }
    }
  }

  private static List<ConsumerRecord<String, String>> read(EmbeddedKafka kafka, int count) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "it-reader");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(PageViewCounts.COUNTS));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && records.size() < count) {
        consumer.poll(Duration.ofMillis(250)).forEach(records::add);
      }
    }
    return records;
  }
}
