package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeCount;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KafkaMetricsBridgeTest {

  private final InMemoryMetricReader reader = InMemoryMetricReader.create();
  private final OpenTelemetrySdk openTelemetry =
      OpenTelemetrySdk.builder()
          .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
          .build();
  private final KafkaMetricsBridge bridge = new KafkaMetricsBridge();

  @AfterEach
  void close() {
    openTelemetry.close();
  }

  private Metrics kafkaMetrics() {
    bridge.configure(Map.of(KafkaMetricsBridge.OPENTELEMETRY_CONFIG, openTelemetry));
    return new Metrics(new MetricConfig(), List.of(bridge), Time.SYSTEM);
  }

  private MetricData metric(Collection<MetricData> metrics, String name) {
    return metrics.stream()
        .filter(m -> m.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " not exported; got " + metrics));
  }

  @Test
  void exportsTotalsAsCountersAndTheRestAsGaugesNamedByGroupWithTagsAsAttributes() {
    try (Metrics metrics = kafkaMetrics()) {
      Map<String, String> tags = Map.of("thread-id", "t-1", "task-id", "0_1");
      Sensor commits = metrics.sensor("commit");
      commits.add(
          new MetricName("commit-total", "stream-thread-metrics", "commits", tags),
          new CumulativeCount());
      commits.add(
          new MetricName("commit-latency-avg", "stream-thread-metrics", "latency", tags),
          new Avg());
      commits.record(4);
      commits.record(8);
      metrics.addMetric(
          new MetricName("alive-stream-threads", "stream-metrics", "threads", Map.of()),
          (Gauge<Integer>) (config, now) -> 2);

      Collection<MetricData> exported = reader.collectAllMetrics();

      MetricData total = metric(exported, "kafka.stream_thread.commit_total");
      assertThat(total.getType()).isEqualTo(MetricDataType.DOUBLE_SUM);
      assertThat(total.getDoubleSumData().getPoints())
          .singleElement()
          .satisfies(
              point -> {
                assertThat(point.getValue()).isEqualTo(2.0);
                assertThat(point.getAttributes().get(AttributeKey.stringKey("thread_id")))
                    .isEqualTo("t-1");
                assertThat(point.getAttributes().get(AttributeKey.stringKey("task_id")))
                    .isEqualTo("0_1");
              });
      MetricData latency = metric(exported, "kafka.stream_thread.commit_latency_avg");
      assertThat(latency.getType()).isEqualTo(MetricDataType.DOUBLE_GAUGE);
      assertThat(latency.getDoubleGaugeData().getPoints())
          .singleElement()
          .satisfies(point -> assertThat(point.getValue()).isEqualTo(6.0));
      assertThat(
              metric(exported, "kafka.stream.alive_stream_threads")
                  .getDoubleGaugeData()
                  .getPoints())
          .singleElement()
          .satisfies(point -> assertThat(point.getValue()).isEqualTo(2.0));
    }
  }

  @Test
  void leavesOutMetricsThatAreNotNumbersAndForgetsRemovedOnes() {
    try (Metrics metrics = kafkaMetrics()) {
      MetricName version = new MetricName("version", "app-info", "version", Map.of());
      metrics.addMetric(version, (Gauge<String>) (config, now) -> "4.4.0");
      MetricName available =
          new MetricName("buffer-available-bytes", "producer-metrics", "bytes", Map.of());
      metrics.addMetric(available, (Gauge<Long>) (config, now) -> 7L);
      assertThat(reader.collectAllMetrics())
          .extracting(MetricData::getName)
          .contains("kafka.producer.buffer_available_bytes")
          .doesNotContain("kafka.app_info.version");

      metrics.removeMetric(available);

      assertThat(reader.collectAllMetrics())
          .extracting(MetricData::getName)
          .doesNotContain("kafka.producer.buffer_available_bytes");
    }
  }

  @Test
  void installKeepsTheConfiguredReportersAndReachesEveryClient() {
    Properties streams = new Properties();
    KafkaMetricsBridge.install(streams, openTelemetry);

    assertThat(streams.getProperty("metric.reporters"))
        .isEqualTo(JmxReporter.class.getName() + "," + KafkaMetricsBridge.class.getName());
    assertThat(streams)
        .containsEntry(KafkaMetricsBridge.OPENTELEMETRY_CONFIG, openTelemetry)
        .containsEntry("consumer." + KafkaMetricsBridge.OPENTELEMETRY_CONFIG, openTelemetry)
        .containsEntry("producer." + KafkaMetricsBridge.OPENTELEMETRY_CONFIG, openTelemetry)
        .containsEntry("admin." + KafkaMetricsBridge.OPENTELEMETRY_CONFIG, openTelemetry);
  }

  @Test
  void failsToConfigureWithoutAnOpenTelemetryNamingTheKey() {
    assertThatThrownBy(() -> bridge.configure(Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(KafkaMetricsBridge.OPENTELEMETRY_CONFIG);
  }
}
