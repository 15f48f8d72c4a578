package io.linkcorrelator.app;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Exports Kafka's own metrics — Kafka Streams' (client, thread, task, processor node, state store)
 * and those of its consumers, producer and admin client — through OpenTelemetry, as asynchronous
 * instruments read when the meter provider collects.
 *
 * <p>A metric {@code <name>} of group {@code <group>-metrics} becomes {@code kafka.<group>.<name>},
 * dashes as underscores: {@code stream-thread-metrics} / {@code commit-latency-avg} → {@code
 * kafka.stream_thread.commit_latency_avg}; {@code consumer-fetch-manager-metrics} / {@code
 * records-lag-max} → {@code kafka.consumer_fetch_manager.records_lag_max}. Cumulative totals
 * ({@code *-total}) are counters, everything else gauges; the metric's tags are the attributes
 * ({@code client-id} → {@code client_id}, {@code thread-id}, {@code task-id}, {@code topic}, {@code
 * partition}, …). Metrics whose value is not a number (versions, the state name) are left out.
 *
 * <p>Kafka instantiates reporters by class name, so the {@link OpenTelemetry} to use travels in the
 * configuration ({@link #install}). The OpenTelemetry instrumentation project's {@code
 * OpenTelemetryMetricsReporter} only maps groups containing {@code consumer} or {@code producer},
 * so it would leave out every Kafka Streams metric; hence this bridge.
 */
public final class KafkaMetricsBridge implements MetricsReporter {

  /** Configuration key under which {@link #install} passes the {@link OpenTelemetry}: {@value}. */
  public static final String OPENTELEMETRY_CONFIG = "io.linkcorrelator.metrics.opentelemetry";

  private final Map<MetricName, AutoCloseable> instruments = new ConcurrentHashMap<>();
  private final Map<String, String> descriptions = new ConcurrentHashMap<>();
  private volatile Meter meter;

  /** Instantiated by Kafka from {@code metric.reporters}. */
  public KafkaMetricsBridge() {}

  /**
   * Adds this bridge to Kafka Streams' settings, for Kafka Streams itself and each of its clients,
   * keeping the reporters already configured (by default Kafka's {@code JmxReporter}).
   *
   * @param streams the Kafka Streams settings, changed in place
   * @param openTelemetry where the metrics go
   */
  static void install(Properties streams, OpenTelemetry openTelemetry) {
    String reporters =
        streams.getProperty(
            CommonClientConfigs.METRIC_REPORTER_CLASSES_CONFIG, JmxReporter.class.getName());
    String joined =
        reporters.isBlank()
            ? KafkaMetricsBridge.class.getName()
            : reporters + "," + KafkaMetricsBridge.class.getName();
    streams.put(CommonClientConfigs.METRIC_REPORTER_CLASSES_CONFIG, joined);
    // Kafka Streams passes its clients only their own keys, and prefixed ones without the prefix.
    for (String prefix :
        List.of(
            "",
            StreamsConfig.CONSUMER_PREFIX,
            StreamsConfig.PRODUCER_PREFIX,
            StreamsConfig.ADMIN_CLIENT_PREFIX)) {
      streams.put(prefix + OPENTELEMETRY_CONFIG, openTelemetry);
    }
  }

  /**
   * Takes the {@link OpenTelemetry} that {@link #install} put in the configuration.
   *
   * @param configs the client's configuration
   */
  @Override
  public void configure(Map<String, ?> configs) {
    if (!(configs.get(OPENTELEMETRY_CONFIG) instanceof OpenTelemetry openTelemetry)) {
      throw new ConfigException(
          OPENTELEMETRY_CONFIG,
          configs.get(OPENTELEMETRY_CONFIG),
          "must be an OpenTelemetry instance; use KafkaMetricsBridge.install");
    }
    meter = openTelemetry.getMeter(CorrelatorTopology.INSTRUMENTATION_NAME + ".kafka");
  }

  /**
   * Registers the metrics that exist when the client starts.
   *
   * @param metrics the client's metrics
   */
  @Override
  public void init(List<KafkaMetric> metrics) {
    metrics.forEach(this::metricChange);
  }

  /**
   * Registers (or re-registers) one metric.
   *
   * @param metric the metric
   */
  @Override
  public void metricChange(KafkaMetric metric) {
    metricRemoval(metric);
    if (!(metric.metricValue() instanceof Number)) {
      return;
    }
    MetricName name = metric.metricName();
    String instrument = instrumentName(name);
    String description = descriptions.computeIfAbsent(instrument, key -> name.description());
    Attributes attributes = attributes(name.tags());
    Consumer<ObservableDoubleMeasurement> callback =
        measurement -> {
          if (metric.metricValue() instanceof Number number) {
            double value = number.doubleValue();
            if (Double.isFinite(value)) {
              measurement.record(value, attributes);
            }
          }
        };
    AutoCloseable registered =
        cumulative(metric)
            ? meter
                .counterBuilder(instrument)
                .setDescription(description)
                .ofDoubles()
                .buildWithCallback(callback)
            : meter
                .gaugeBuilder(instrument)
                .setDescription(description)
                .buildWithCallback(callback);
    instruments.put(name, registered);
  }

  /**
   * Stops reporting one metric.
   *
   * @param metric the metric
   */
  @Override
  public void metricRemoval(KafkaMetric metric) {
    AutoCloseable registered = instruments.remove(metric.metricName());
    if (registered != null) {
      closeQuietly(registered);
    }
  }

  /** Stops reporting every metric of the client. */
  @Override
  public void close() {
    instruments.values().forEach(KafkaMetricsBridge::closeQuietly);
    instruments.clear();
  }

  static String instrumentName(MetricName name) {
    String group = name.group();
    if (group.endsWith("-metrics")) {
      group = group.substring(0, group.length() - "-metrics".length());
    }
    return "kafka." + snake(group) + "." + snake(name.name());
  }

  private static boolean cumulative(KafkaMetric metric) {
    try {
      return metric.measurable() instanceof CumulativeSum; // CumulativeCount extends it
    } catch (IllegalStateException notMeasurable) {
      return false; // a gauge
    }
  }

  private static Attributes attributes(Map<String, String> tags) {
    AttributesBuilder attributes = Attributes.builder();
    tags.forEach((key, value) -> attributes.put(snake(key), value));
    return attributes.build();
  }

  private static String snake(String name) {
    return name.toLowerCase(Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  private static void closeQuietly(AutoCloseable instrument) {
    try {
      instrument.close();
    } catch (Exception e) {
      // The SDK's observable instruments do not throw on close.
    }
  }
}
