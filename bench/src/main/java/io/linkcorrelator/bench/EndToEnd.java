package io.linkcorrelator.bench;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.topology.AppConfig;
import io.linkcorrelator.topology.CorrelatorApp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The correlator as deployed: its application wiring, exactly-once, the embedded broker, OTLP/HTTP
 * to the receiver. Measures records per second end to end, and the latency from a window's close
 * (the aggregate span's end, when the correlator emitted it) to that span's arrival at the
 * receiver.
 */
final class EndToEnd {

  /**
   * What the run measured.
   *
   * @param records records produced
   * @param windows results read
   * @param nanos from the first record sent to the last result read
   * @param p50Millis median close-to-arrival latency
   * @param p99Millis 99th percentile close-to-arrival latency
   */
  record Result(int records, int windows, long nanos, double p50Millis, double p99Millis) {}

  private EndToEnd() {}

  static Result run(int records, int keys) throws Exception {
    long t0 = System.currentTimeMillis() - Duration.ofHours(1).toMillis();
    int perWindow = 1_000; // 1 ms apart: 1-second windows, spread over the keys
    int windows = (records + perWindow - 1) / perWindow;
    Path stateDir = Files.createTempDirectory("bench-e2e-");
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        OtlpReceiver receiver = OtlpReceiver.start()) {
      kafka.createTopic("orders", 4);
      kafka.createTopic("windows", 1);
      Properties props = new Properties();
      props.put("application.id", "bench-e2e");
      props.put("bootstrap.servers", kafka.bootstrapServers());
      props.put("processing.guarantee", "exactly_once_v2");
      props.put("state.dir", stateDir.toString());
      props.put("correlator.input.topics", "orders");
      props.put("correlator.output.topic", "windows");
      props.put("correlator.window.size.ms", "1000");
      props.put("correlator.window.grace.ms", "0");
      Map<String, String> env = new HashMap<>();
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.httpEndpoint());
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
      env.put("OTEL_METRICS_EXPORTER", "none");
      env.put("OTEL_BSP_SCHEDULE_DELAY", "200");
      try (CorrelatorApp app = CorrelatorApp.start(AppConfig.of(props, env), env);
          KafkaProducer<String, byte[]> producer =
              new KafkaProducer<>(
                  Map.of(
                      ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                      kafka.bootstrapServers(),
                      ProducerConfig.LINGER_MS_CONFIG,
                      5),
                  new StringSerializer(),
                  new ByteArraySerializer());
          KafkaConsumer<String, WindowResult> consumer =
              new KafkaConsumer<>(
                  Map.of(
                      ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                      ConsumerConfig.GROUP_ID_CONFIG, "bench-reader",
                      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                      ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                  new StringDeserializer(),
                  AvroSerde.of(WindowResult.class).deserializer())) {
        consumer.subscribe(List.of("windows"));
        long ready = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (app.streams().state() != org.apache.kafka.streams.KafkaStreams.State.RUNNING
            && System.nanoTime() < ready) {
          Thread.sleep(50); // waiting for the first rebalance, outside the measurement
        }
        long start = System.nanoTime();
        byte[] value = "order-payload-16".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < records; i++) {
          ProducerRecord<String, byte[]> record =
              new ProducerRecord<>("orders", null, t0 + i, "customer-" + (i % keys), value);
          record
              .headers()
              .add("traceparent", Workload.traceparent(i).getBytes(StandardCharsets.UTF_8));
          producer.send(record);
        }
        for (int partition = 0; partition < 4; partition++) {
          producer.send(
              new ProducerRecord<>("orders", partition, t0 + records + 10_000L, "closer", value));
        }
        producer.flush();
        int expected = windows * Math.min(keys, perWindow);
        int read = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (read < expected && System.nanoTime() < deadline) {
          read +=
              (int)
                  java.util.stream.StreamSupport.stream(
                          consumer.poll(Duration.ofMillis(100)).spliterator(), false)
                      .filter(r -> r.key().startsWith("customer-"))
                      .count();
        }
        long nanos = System.nanoTime() - start;
        List<ReceivedSpan> aggregates =
            receiver.awaitSpans(
                span -> span.parentSpanId().isEmpty(), read, Duration.ofSeconds(30));
        double[] latencies =
            aggregates.stream()
                .mapToDouble(
                    span -> (span.receivedAtEpochNanos() - span.span().getEndTimeUnixNano()) / 1e6)
                .sorted()
                .toArray();
        return new Result(
            records, read, nanos, percentile(latencies, 0.5), percentile(latencies, 0.99));
      }
    }
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }
}
