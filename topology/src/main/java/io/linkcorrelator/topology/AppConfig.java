package io.linkcorrelator.topology;

import io.linkcorrelator.schemas.WindowType;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/**
 * The application's configuration: one properties file plus environment overrides.
 *
 * <ul>
 *   <li>Keys starting {@code correlator.} configure the correlator (see {@link #KEYS}); each can be
 *       overridden by the environment variable of the same name upper-cased with dots as
 *       underscores: {@code correlator.window.size.ms} ← {@code CORRELATOR_WINDOW_SIZE_MS}. An
 *       unknown {@code correlator.*} key or {@code CORRELATOR_*} variable is an error (a typo).
 *   <li>Every other key is a Kafka Streams (or Kafka client) setting and passes through unchanged;
 *       {@code KAFKA_*} variables override or add them: {@code KAFKA_BOOTSTRAP_SERVERS} → {@code
 *       bootstrap.servers}.
 *   <li>OpenTelemetry is configured the standard way ({@code OTEL_*}), not here.
 * </ul>
 *
 * <p>Bad values fail at start with a message that names the key and the accepted values.
 */
public final class AppConfig {

  /** Input topics, comma-separated (required). */
  public static final String INPUT_TOPICS = "correlator.input.topics";

  /** Output topic of the window results (required). */
  public static final String OUTPUT_TOPIC = "correlator.output.topic";

  /** Dead-letter topic for records that cannot be grouped (default: none, they are only logged). */
  public static final String DEAD_LETTER_TOPIC = "correlator.dead.letter.topic";

  /** Window type: tumbling, hopping, sliding, session (default tumbling). */
  public static final String WINDOW_TYPE = "correlator.window.type";

  /** Window size (tumbling, hopping) or time difference (sliding), ms (default 60000). */
  public static final String WINDOW_SIZE_MS = "correlator.window.size.ms";

  /** Hop between hopping windows, ms (default: the size). */
  public static final String WINDOW_ADVANCE_MS = "correlator.window.advance.ms";

  /** Grace period, ms (default 10000). */
  public static final String WINDOW_GRACE_MS = "correlator.window.grace.ms";

  /** Inactivity gap of session windows, ms (default 30000). */
  public static final String WINDOW_GAP_MS = "correlator.window.gap.ms";

  /** key, header:NAME or field:PATH (default key). */
  public static final String GROUP_BY = "correlator.group.by";

  /** Avro schema of input values: a file path or classpath:RESOURCE (default none). */
  public static final String VALUE_SCHEMA = "correlator.value.schema";

  /** Numeric value field to aggregate (default none: count only). */
  public static final String AGGREGATE_FIELD = "correlator.aggregate.field";

  /** Aggregate functions: any of sum, min, max (default sum,min,max). */
  public static final String AGGREGATE_FUNCTIONS = "correlator.aggregate.functions";

  /** Links per exported span (default 128). */
  public static final String LINKS_PER_SPAN = "correlator.links.per.span.max";

  /** Datadog link JSON characters per span (default 25000). */
  public static final String LINKS_JSON_CHARS = "correlator.links.json.max.chars";

  /** How far ahead of the wall clock a timestamp may be, ms (default 3600000, one hour). */
  public static final String MAX_FUTURE_MS = "correlator.max.future.ms";

  /** How long a result waits for its spans' export, ms (default 5000; 0 never waits). */
  public static final String EXPORT_FLUSH_TIMEOUT_MS = "correlator.export.flush.timeout.ms";

  /** Extraction order (default tracecontext,datadog,b3,jaeger). */
  public static final String TRACE_EXTRACT = "correlator.trace.extract";

  /** Injection styles (default tracecontext). */
  public static final String TRACE_INJECT = "correlator.trace.inject";

  /** {@value}: how long an upstream partition may stand still before it stops holding windows. */
  public static final String PARTITION_IDLE_MS = "correlator.partition.idle.ms";

  /** {@value}: how long stream time may stand still before due windows close by wall clock. */
  public static final String WINDOW_IDLE_CLOSE_MS = "correlator.window.idle.close.ms";

  /** Every correlator key, with its default ("" when it has none). */
  public static final Map<String, String> KEYS = defaults();

  private final CorrelatorConfig correlator;
  private final Properties streams;

  private AppConfig(CorrelatorConfig correlator, Properties streams) {
    this.correlator = correlator;
    this.streams = streams;
  }

  private static Map<String, String> defaults() {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put(INPUT_TOPICS, "");
    keys.put(OUTPUT_TOPIC, "");
    keys.put(DEAD_LETTER_TOPIC, "");
    keys.put(WINDOW_TYPE, "tumbling");
    keys.put(WINDOW_SIZE_MS, "60000");
    keys.put(WINDOW_ADVANCE_MS, "");
    keys.put(WINDOW_GRACE_MS, "10000");
    keys.put(WINDOW_GAP_MS, "30000");
    keys.put(GROUP_BY, "key");
    keys.put(VALUE_SCHEMA, "");
    keys.put(AGGREGATE_FIELD, "");
    keys.put(AGGREGATE_FUNCTIONS, "sum,min,max");
    keys.put(LINKS_PER_SPAN, String.valueOf(CorrelatorConfig.DEFAULT_MAX_LINKS_PER_SPAN));
    keys.put(LINKS_JSON_CHARS, String.valueOf(CorrelatorConfig.DEFAULT_MAX_LINKS_JSON_CHARS));
    keys.put(MAX_FUTURE_MS, String.valueOf(CorrelatorConfig.DEFAULT_MAX_FUTURE_MS));
    keys.put(
        EXPORT_FLUSH_TIMEOUT_MS, String.valueOf(CorrelatorConfig.DEFAULT_EXPORT_FLUSH_TIMEOUT_MS));
    keys.put(PARTITION_IDLE_MS, String.valueOf(CorrelatorConfig.DEFAULT_PARTITION_IDLE_MS));
    keys.put(WINDOW_IDLE_CLOSE_MS, String.valueOf(CorrelatorConfig.DEFAULT_WINDOW_IDLE_CLOSE_MS));
    keys.put(TRACE_EXTRACT, TraceFormats.DEFAULT_EXTRACT_ORDER);
    keys.put(TRACE_INJECT, TraceFormats.DEFAULT_INJECT);
    return java.util.Collections.unmodifiableMap(keys);
  }

  /**
   * Reads the properties file and applies the environment.
   *
   * @param file the properties file
   * @param env the environment, usually {@code System.getenv()}
   * @return the validated configuration
   * @throws IllegalArgumentException naming the key of a missing or bad value, or the file
   */
  public static AppConfig load(Path file, Map<String, String> env) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read configuration file " + file + ": " + e.getMessage(), e);
    }
    return of(properties, env);
  }

  /**
   * Validates properties with the environment applied.
   *
   * @param file the properties as read
   * @param env the environment
   * @return the validated configuration
   */
  public static AppConfig of(Properties file, Map<String, String> env) {
    Map<String, String> settings = new LinkedHashMap<>();
    file.stringPropertyNames()
        .forEach(key -> settings.put(key.trim(), file.getProperty(key).trim()));
    env.forEach(
        (name, value) -> {
          if (name.startsWith("CORRELATOR_")) {
            settings.put(correlatorKey(name), value.trim());
          } else if (name.startsWith("KAFKA_")) {
            settings.put(
                name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.'),
                value.trim());
          }
        });
    Map<String, String> correlator = new LinkedHashMap<>(KEYS);
    Properties streams = new Properties();
    streams.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    streams.put(
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        LogAndContinueExceptionHandler.class.getName());
    settings.forEach(
        (key, value) -> {
          if (key.startsWith("correlator.")) {
            if (!KEYS.containsKey(key)) {
              throw new IllegalArgumentException(
                  "unknown key " + key + "; the correlator's keys are " + KEYS.keySet());
            }
            correlator.put(key, value);
          } else {
            streams.put(key, value);
          }
        });
    String applicationId = streams.getProperty(StreamsConfig.APPLICATION_ID_CONFIG, "");
    if (applicationId.isBlank()) {
      throw new IllegalArgumentException(
          StreamsConfig.APPLICATION_ID_CONFIG + " is required (or KAFKA_APPLICATION_ID)");
    }
    if (streams.getProperty(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "").isBlank()) {
      throw new IllegalArgumentException(
          StreamsConfig.BOOTSTRAP_SERVERS_CONFIG + " is required (or KAFKA_BOOTSTRAP_SERVERS)");
    }
    String deadLetter = correlator.get(DEAD_LETTER_TOPIC);
    if (!deadLetter.isEmpty()) {
      streams.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, deadLetter);
    }
    return new AppConfig(correlatorConfig(applicationId, correlator), streams);
  }

  private static String correlatorKey(String envName) {
    for (String key : KEYS.keySet()) {
      if (envName(key).equals(envName)) {
        return key;
      }
    }
    throw new IllegalArgumentException(
        "unknown environment variable "
            + envName
            + "; the correlator's are "
            + new TreeSet<>(KEYS.keySet().stream().map(AppConfig::envName).toList()));
  }

  /**
   * The environment variable that overrides a key.
   *
   * @param key a configuration key
   * @return e.g. {@code CORRELATOR_WINDOW_SIZE_MS} or {@code KAFKA_BOOTSTRAP_SERVERS}
   */
  public static String envName(String key) {
    String name = key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    return key.startsWith("correlator.") ? name : "KAFKA_" + name;
  }

  private static CorrelatorConfig correlatorConfig(String applicationId, Map<String, String> c) {
    CorrelatorConfig.Builder builder =
        CorrelatorConfig.builder()
            .applicationId(applicationId)
            .inputTopics(
                Arrays.stream(c.get(INPUT_TOPICS).split(","))
                    .map(String::trim)
                    .filter(topic -> !topic.isEmpty())
                    .toArray(String[]::new))
            .outputTopic(c.get(OUTPUT_TOPIC))
            .window(window(c))
            .groupBy(GroupBy.parse(c.get(GROUP_BY)))
            .aggregateField(c.get(AGGREGATE_FIELD))
            .aggregateFunctions(c.get(AGGREGATE_FUNCTIONS))
            .maxLinksPerSpan(integer(c, LINKS_PER_SPAN))
            .maxLinksJsonChars(integer(c, LINKS_JSON_CHARS))
            .maxFutureMs(number(c, MAX_FUTURE_MS))
            .exportFlushTimeoutMs(number(c, EXPORT_FLUSH_TIMEOUT_MS))
            .partitionIdleMs(number(c, PARTITION_IDLE_MS))
            .windowIdleCloseMs(number(c, WINDOW_IDLE_CLOSE_MS))
            .extractor(TraceFormats.extractor(c.get(TRACE_EXTRACT)))
            .injector(TraceFormats.injector(c.get(TRACE_INJECT)));
    String schema = c.get(VALUE_SCHEMA);
    if (!schema.isEmpty()) {
      builder.valueSchema(schema(schema));
    }
    return builder.build();
  }

  private static WindowSpec window(Map<String, String> c) {
    String type = c.get(WINDOW_TYPE).toUpperCase(Locale.ROOT);
    List<String> types = List.of("TUMBLING", "HOPPING", "SLIDING", "SESSION");
    if (!types.contains(type)) {
      throw new IllegalArgumentException(
          WINDOW_TYPE
              + " must be one of tumbling, hopping, sliding, session; got '"
              + c.get(WINDOW_TYPE)
              + "'");
    }
    Duration size = Duration.ofMillis(number(c, WINDOW_SIZE_MS));
    Duration grace = Duration.ofMillis(number(c, WINDOW_GRACE_MS));
    return switch (WindowType.valueOf(type)) {
      case TUMBLING -> WindowSpec.tumbling(size, grace);
      case HOPPING ->
          WindowSpec.hopping(
              size,
              c.get(WINDOW_ADVANCE_MS).isEmpty()
                  ? size
                  : Duration.ofMillis(number(c, WINDOW_ADVANCE_MS)),
              grace);
      case SLIDING -> WindowSpec.sliding(size, grace);
      case SESSION -> WindowSpec.session(Duration.ofMillis(number(c, WINDOW_GAP_MS)), grace);
      default -> throw new IllegalStateException(type);
    };
  }

  private static long number(Map<String, String> c, String key) {
    try {
      return Long.parseLong(c.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key + " must be a whole number of milliseconds; got '" + c.get(key) + "'");
    }
  }

  private static int integer(Map<String, String> c, String key) {
    try {
      return Integer.parseInt(c.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a whole number; got '" + c.get(key) + "'");
    }
  }

  private static Schema schema(String location) {
    try {
      if (location.startsWith("classpath:")) {
        String resource = location.substring("classpath:".length());
        try (InputStream in = AppConfig.class.getClassLoader().getResourceAsStream(resource)) {
          if (in == null) {
            throw new IllegalArgumentException(
                VALUE_SCHEMA + ": no class-path resource " + resource);
          }
          return new Schema.Parser().parse(in);
        }
      }
      return new Schema.Parser().parse(Path.of(location).toFile());
    } catch (IOException | SchemaParseException e) {
      throw new IllegalArgumentException(
          VALUE_SCHEMA + ": cannot read an Avro schema from " + location + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * The correlator's configuration.
   *
   * @return the config
   */
  public CorrelatorConfig correlator() {
    return correlator;
  }

  /**
   * The Kafka Streams settings: everything not {@code correlator.*}, with the correlator's defaults
   * (log-and-continue exception handlers, the dead-letter topic) where not set.
   *
   * @return a copy of the settings
   */
  public Properties streams() {
    Properties copy = new Properties();
    copy.putAll(streams);
    return copy;
  }
}
