package io.linkcorrelator.app;

import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.TraceFormats;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application's configuration: one properties file plus environment overrides.
 *
 * <ul>
 *   <li>Keys starting {@code correlator.} configure the correlator (see {@link #KEYS}); each can be
 *       overridden by the environment variable of the same name upper-cased with dots as
 *       underscores: {@code correlator.window.size.ms} ← {@code CORRELATOR_WINDOW_SIZE_MS}. An
 *       unknown {@code correlator.*} key in the file is an error (a typo).
 *   <li>Every other key is a Kafka Streams (or Kafka client) setting and passes through unchanged;
 *       {@code KAFKA_*} variables that name one override or add it: {@code KAFKA_BOOTSTRAP_SERVERS}
 *       → {@code bootstrap.servers}.
 *   <li>Environment variables are matched to known keys only. Other {@code CORRELATOR_*} and {@code
 *       KAFKA_*} variables are ignored: those Kubernetes injects for a Service named {@code
 *       correlator} or {@code kafka} ({@code CORRELATOR_SERVICE_HOST}, {@code CORRELATOR_PORT}, …)
 *       with a debug line, any other with a warning.
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

  /** Value format: avro, json or none (default avro with a value schema, else none). */
  public static final String VALUE_FORMAT = "correlator.value.format";

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

  /**
   * Port of the HTTP health and readiness endpoints, 1–65535 (default none: no HTTP server). See
   * {@link #healthPort()}.
   */
  public static final String HEALTH_PORT = "correlator.health.port";

  /** Stream-thread replacements allowed within the interval before the client stops (default 3). */
  public static final String THREAD_REPLACEMENTS_MAX = "correlator.thread.replacements.max";

  /** The interval of {@link #THREAD_REPLACEMENTS_MAX}, ms (default 300000, five minutes). */
  public static final String THREAD_REPLACEMENTS_INTERVAL_MS =
      "correlator.thread.replacements.interval.ms";

  /** How long a stop waits for Kafka Streams to close, ms (default 30000). */
  public static final String CLOSE_TIMEOUT_MS = "correlator.close.timeout.ms";

  /** Default of {@link #THREAD_REPLACEMENTS_MAX}: {@value}. */
  public static final int DEFAULT_THREAD_REPLACEMENTS_MAX = 3;

  /** Default of {@link #THREAD_REPLACEMENTS_INTERVAL_MS}: {@value} (five minutes). */
  public static final long DEFAULT_THREAD_REPLACEMENTS_INTERVAL_MS = 300_000L;

  /** Default of {@link #CLOSE_TIMEOUT_MS}: {@value}. */
  public static final long DEFAULT_CLOSE_TIMEOUT_MS = 30_000L;

  /** {@value}: how long an upstream partition may stand still before it stops holding windows. */
  public static final String PARTITION_IDLE_MS = "correlator.partition.idle.ms";

  /** {@value}: how long stream time may stand still before due windows close by wall clock. */
  public static final String WINDOW_IDLE_CLOSE_MS = "correlator.window.idle.close.ms";

  /** Every correlator key, with its default ("" when it has none). */
  public static final Map<String, String> KEYS = defaults();

  private static final Logger LOG = LoggerFactory.getLogger(AppConfig.class);

  /**
   * Variables Kubernetes injects for a Service (docker links did the same): {@code X_SERVICE_HOST},
   * {@code X_SERVICE_PORT}, {@code X_SERVICE_PORT_NAME}, {@code X_PORT}, {@code
   * X_PORT_9092_TCP[_PROTO|_PORT|_ADDR]}, for a Service named {@code x}, {@code x-y}, ….
   */
  private static final Pattern SERVICE_LINK =
      Pattern.compile(
          "(CORRELATOR|KAFKA)(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT"
              + "|PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)");

  /** Prefixes under which Kafka Streams passes a client's setting to that client. */
  private static final List<String> CLIENT_PREFIXES =
      List.of(
          StreamsConfig.MAIN_CONSUMER_PREFIX,
          StreamsConfig.RESTORE_CONSUMER_PREFIX,
          StreamsConfig.GLOBAL_CONSUMER_PREFIX,
          StreamsConfig.CONSUMER_PREFIX,
          StreamsConfig.PRODUCER_PREFIX,
          StreamsConfig.ADMIN_CLIENT_PREFIX);

  private final CorrelatorConfig correlator;
  private final Properties streams;
  private final int threadReplacementsMax;
  private final Duration threadReplacementsInterval;
  private final Duration closeTimeout;
  private final Map<String, String> ignoredEnvironment;
  private final int healthPort;

  private AppConfig(
      CorrelatorConfig correlator,
      Properties streams,
      Map<String, String> app,
      Map<String, String> ignoredEnvironment) {
    this.correlator = correlator;
    this.streams = streams;
    this.threadReplacementsMax = integer(app, THREAD_REPLACEMENTS_MAX);
    if (threadReplacementsMax < 0) {
      throw new IllegalArgumentException(
          THREAD_REPLACEMENTS_MAX + " must be >= 0; got " + threadReplacementsMax);
    }
    this.threadReplacementsInterval = positiveMillis(app, THREAD_REPLACEMENTS_INTERVAL_MS);
    this.closeTimeout = positiveMillis(app, CLOSE_TIMEOUT_MS);
    this.ignoredEnvironment = Map.copyOf(ignoredEnvironment);
    this.healthPort = healthPort(app);
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
    keys.put(VALUE_FORMAT, "");
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
    keys.put(HEALTH_PORT, "");
    keys.put(THREAD_REPLACEMENTS_MAX, String.valueOf(DEFAULT_THREAD_REPLACEMENTS_MAX));
    keys.put(
        THREAD_REPLACEMENTS_INTERVAL_MS, String.valueOf(DEFAULT_THREAD_REPLACEMENTS_INTERVAL_MS));
    keys.put(CLOSE_TIMEOUT_MS, String.valueOf(DEFAULT_CLOSE_TIMEOUT_MS));
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
    Map<String, String> ignored = new TreeMap<>();
    env.forEach(
        (name, value) -> {
          String key = keyOf(name);
          if (key != null) {
            settings.put(key, value.trim());
          } else if (name.startsWith("CORRELATOR_") || name.startsWith("KAFKA_")) {
            ignored.put(name, ignore(name));
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
    return new AppConfig(correlatorConfig(applicationId, correlator), streams, correlator, ignored);
  }

  /**
   * The key a variable sets: {@code CORRELATOR_*} matched to the correlator's keys, {@code KAFKA_*}
   * to the settings of Kafka Streams and its clients (also under their prefixes, e.g. {@code
   * KAFKA_PRODUCER_LINGER_MS}) and to {@code topic.*}; null for any other variable.
   */
  private static String keyOf(String name) {
    if (name.startsWith("CORRELATOR_")) {
      return KEYS.keySet().stream()
          .filter(key -> envName(key).equals(name))
          .findFirst()
          .orElse(null);
    }
    if (!name.startsWith("KAFKA_")) {
      return null;
    }
    String key = name.substring("KAFKA_".length()).toLowerCase(Locale.ROOT).replace('_', '.');
    return KafkaKeys.NAMES.contains(key) || key.startsWith(StreamsConfig.TOPIC_PREFIX) ? key : null;
  }

  /** Logs why an unknown variable is ignored and returns the reason. */
  private static String ignore(String name) {
    if (SERVICE_LINK.matcher(name).matches()) {
      LOG.debug("ignoring {}: a Kubernetes service link, not a setting", name);
      return "service link";
    }
    LOG.warn(
        "ignoring environment variable {}: no such setting (the correlator's are {}; KAFKA_*"
            + " names a Kafka Streams or client setting)",
        name,
        new TreeSet<>(KEYS.keySet().stream().map(AppConfig::envName).toList()));
    return "unknown";
  }

  /** Every setting of Kafka Streams and its clients, bare and under the client prefixes. */
  private static final class KafkaKeys {
    static final Set<String> NAMES = names();

    private static Set<String> names() {
      Set<String> clients = new HashSet<>();
      clients.addAll(ConsumerConfig.configNames());
      clients.addAll(ProducerConfig.configNames());
      clients.addAll(AdminClientConfig.configNames());
      Set<String> names = new HashSet<>(StreamsConfig.configDef().names());
      names.addAll(clients);
      for (String prefix : CLIENT_PREFIXES) {
        clients.forEach(name -> names.add(prefix + name));
      }
      return Set.copyOf(names);
    }
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

  private static Duration positiveMillis(Map<String, String> c, String key) {
    long millis = number(c, key);
    if (millis <= 0) {
      throw new IllegalArgumentException(key + " must be > 0; got " + millis);
    }
    return Duration.ofMillis(millis);
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
    if (!c.get(VALUE_FORMAT).isEmpty()) {
      builder.valueFormat(ValueFormat.parse(c.get(VALUE_FORMAT)));
    }
    String schema = c.get(VALUE_SCHEMA);
    if (!schema.isEmpty()) {
      builder.valueSchema(schema(schema));
    }
    return builder.build();
  }

  private static int healthPort(Map<String, String> c) {
    if (c.get(HEALTH_PORT).isEmpty()) {
      return 0;
    }
    int port = integer(c, HEALTH_PORT);
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(
          HEALTH_PORT + " must be a port number from 1 to 65535; got '" + c.get(HEALTH_PORT) + "'");
    }
    return port;
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
   * The port of the HTTP health and readiness endpoints ({@value #HEALTH_PORT}).
   *
   * @return the port, or 0 when they are off (the default)
   */
  public int healthPort() {
    return healthPort;
  }

  /**
   * How many times within {@link #threadReplacementsInterval()} a failed stream thread is replaced;
   * one more failure shuts the client down (and the process exits with status 1). Default {@value
   * #DEFAULT_THREAD_REPLACEMENTS_MAX}; 0 never replaces.
   *
   * @return the most replacements per interval
   */
  public int threadReplacementsMax() {
    return threadReplacementsMax;
  }

  /**
   * The interval over which thread replacements are counted; default {@value
   * #DEFAULT_THREAD_REPLACEMENTS_INTERVAL_MS} ms.
   *
   * @return the interval
   */
  public Duration threadReplacementsInterval() {
    return threadReplacementsInterval;
  }

  /**
   * How long a stop waits for Kafka Streams to close before giving up; default {@value
   * #DEFAULT_CLOSE_TIMEOUT_MS} ms. An orchestrator's grace period must be longer.
   *
   * @return the timeout
   */
  public Duration closeTimeout() {
    return closeTimeout;
  }

  /** The {@code CORRELATOR_*} and {@code KAFKA_*} variables ignored, with why. */
  Map<String, String> ignoredEnvironment() {
    return ignoredEnvironment;
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
