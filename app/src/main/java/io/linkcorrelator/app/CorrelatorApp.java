package io.linkcorrelator.app;

import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.DroppedSpans;
import io.linkcorrelator.streams.ExportQueue;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Link Correlator application: {@code java -jar link-correlator.jar correlator.properties}.
 *
 * <p>{@code main} only wires things together: the configuration ({@link AppConfig}: the file plus
 * {@code CORRELATOR_*}/{@code KAFKA_*} environment overrides), OpenTelemetry from the SDK's
 * autoconfigure module ({@code OTEL_SERVICE_NAME}, {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code
 * OTEL_EXPORTER_OTLP_PROTOCOL} = {@code grpc} or {@code http/protobuf}, {@code
 * OTEL_RESOURCE_ATTRIBUTES}, …), the topology, and {@link KafkaStreams}. Defaults keep every link:
 * deterministic ids, and a span link limit of at least {@code correlator.links.per.span.max}.
 *
 * <p>Kafka Streams' and its clients' metrics go out through OpenTelemetry ({@link
 * KafkaMetricsBridge}) with the correlator's own (the library's counters, {@link StoreGauges},
 * {@link DroppedSpans}); the batch span processor is gated by an {@link ExportQueue}, so a full
 * queue holds emission back instead of dropping spans; with {@code correlator.health.port} set,
 * {@link HealthServer} answers liveness and readiness probes.
 *
 * <p>A stop (SIGTERM, Ctrl-C) closes Kafka Streams first, then flushes and closes the tracer
 * provider, so spans of windows emitted before the stop are exported. A stream thread that dies of
 * an unexpected error is logged and replaced, at most {@code correlator.thread.replacements.max}
 * times per {@code correlator.thread.replacements.interval.ms}; then Kafka Streams shuts down and
 * the process exits with status 1. Every aggregate span is sampled, whatever {@code
 * OTEL_TRACES_SAMPLER} says. Bad configuration fails at start, exit code 2, with a message naming
 * the key.
 */
public final class CorrelatorApp implements AutoCloseable {

  static {
    // Before the first logger: the application's logging, unless the operator chose another.
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "classpath:log4j2-correlator.xml");
    }
    // Our shutdown hook logs the stop; Log4j's own hook could stop logging before it runs.
    if (System.getProperty("log4j2.shutdownHookEnabled") == null) {
      System.setProperty("log4j2.shutdownHookEnabled", "false");
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(CorrelatorApp.class);

  /** The SDK's default {@code otel.bsp.max.queue.size}. */
  private static final int BSP_QUEUE_DEFAULT = 2048;

  private static final Set<String> SAMPLING_EVERYTHING =
      Set.of("always_on", "parentbased_always_on");

  private final KafkaStreams streams;
  private final OpenTelemetrySdk openTelemetry;
  private final Duration closeTimeout;
  private HealthServer health;

  private CorrelatorApp(
      KafkaStreams streams, OpenTelemetrySdk openTelemetry, Duration closeTimeout) {
    this.streams = streams;
    this.openTelemetry = openTelemetry;
    this.closeTimeout = closeTimeout;
  }

  /**
   * Runs the correlator until the JVM is stopped.
   *
   * @param args the path of the properties file
   */
  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: java -jar link-correlator.jar <correlator.properties>");
      System.exit(2);
    }
    CountDownLatch failed = new CountDownLatch(1);
    CorrelatorApp app;
    try {
      app =
          start(
              AppConfig.load(Path.of(args[0]), System.getenv()),
              System.getenv(),
              failed::countDown);
    } catch (IllegalArgumentException | ConfigurationException e) {
      System.err.println("configuration error: " + e.getMessage());
      LOG.error("configuration error: {}", e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "correlator-shutdown"));
    // main stays alive until Kafka Streams fails for good: while Kafka Streams winds down into
    // ERROR no thread of its own may keep the JVM up, which would then exit with status 0.
    try {
      failed.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.exit(1); // runs the shutdown hook, which closes Kafka Streams and flushes the spans
  }

  /**
   * Builds OpenTelemetry and the topology and starts Kafka Streams.
   *
   * @param config the application configuration
   * @param env the environment; {@code OTEL_*} entries configure OpenTelemetry (in {@code main}
   *     this is the process environment, which the SDK reads anyway)
   * @return the running application; {@link #close()} stops it
   * @throws IllegalArgumentException when the OpenTelemetry settings cannot keep every link, or the
   *     {@code correlator.health.port} cannot be opened
   */
  public static CorrelatorApp start(AppConfig config, Map<String, String> env) {
    return start(config, env, () -> {});
  }

  /**
   * As {@link #start(AppConfig, Map)}, with what to do when Kafka Streams fails for good ({@code
   * main} exits with status 1, so that a supervisor restarts it).
   *
   * @param config the application configuration
   * @param env the environment
   * @param onFatalError run once when Kafka Streams enters ERROR
   * @return the running application
   */
  public static CorrelatorApp start(
      AppConfig config, Map<String, String> env, Runnable onFatalError) {
    CorrelatorConfig correlator = config.correlator();
    DroppedSpans dropped = new DroppedSpans();
    ExportQueue exportQueue = new ExportQueue(dropped);
    OpenTelemetrySdk openTelemetry = openTelemetry(correlator, env, dropped, exportQueue);
    Properties settings = config.streams();
    KafkaMetricsBridge.install(settings, openTelemetry);
    KafkaStreams streams =
        new KafkaStreams(
            CorrelatorTopology.build(correlator, openTelemetry, exportQueue::hasRoom), settings);
    Meter meter = openTelemetry.getMeter(CorrelatorTopology.INSTRUMENTATION_NAME);
    StoreGauges.register(meter, streams);
    dropped.register(meter);
    streams.setUncaughtExceptionHandler(
        new ThreadReplacements(
            config.threadReplacementsMax(), config.threadReplacementsInterval(), System::nanoTime));
    streams.setStateListener(
        (now, before) -> {
          LOG.info("Kafka Streams {} -> {}", before, now);
          if (now == KafkaStreams.State.ERROR) {
            LOG.error("Kafka Streams is in ERROR and will not recover; stopping");
            onFatalError.run();
          }
        });
    CorrelatorApp app = new CorrelatorApp(streams, openTelemetry, config.closeTimeout());
    if (config.healthPort() != 0) {
      try {
        app.health = HealthServer.start(config.healthPort(), streams::state);
      } catch (IllegalArgumentException e) {
        streams.close();
        openTelemetry.close();
        throw e;
      }
      LOG.info(
          "health on port {}: {} and {}",
          app.health.port(),
          HealthServer.LIVE_PATH,
          HealthServer.READY_PATH);
    }
    streams.start();
    LOG.info(
        "correlating {} -> {} ({} windows, group by {}), application {}",
        correlator.inputTopics(),
        correlator.outputTopic(),
        correlator.window().type().name().toLowerCase(Locale.ROOT),
        correlator.groupBy().source().name().toLowerCase(Locale.ROOT),
        correlator.applicationId());
    return app;
  }

  static OpenTelemetrySdk openTelemetry(
      CorrelatorConfig correlator,
      Map<String, String> env,
      DroppedSpans dropped,
      ExportQueue exportQueue) {
    int maxLinks = correlator.maxLinksPerSpan();
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", "link-correlator");
    defaults.put("otel.span.link.count.limit", String.valueOf(Math.max(maxLinks, 128)));
    defaults.put("otel.logs.exporter", "none");
    // The SDK's own metrics under OpenTelemetry's semantic conventions, e.g. spans the batch
    // processor drops when its queue is full: otel.sdk.processor.span.processed{error.type}.
    defaults.put("otel.experimental.sdk.telemetry.version", "latest");
    Map<String, String> fromEnv = new HashMap<>();
    env.forEach(
        (name, value) -> {
          if (name.startsWith("OTEL_")) {
            fromEnv.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value);
          }
        });
    return AutoConfiguredOpenTelemetrySdk.builder()
        // close() closes it after Kafka Streams: its own hook would shut it down while the
        // stream thread may still emit a window, whose spans would then be no-ops.
        .disableShutdownHook()
        .addPropertiesSupplier(() -> defaults)
        .addPropertiesCustomizer(properties -> fromEnv)
        .addSpanExporterCustomizer((exporter, properties) -> exportQueue.tracking(exporter))
        // The batch processor drops spans when its queue is full: the gate keeps it from filling.
        .addSpanProcessorCustomizer(
            (processor, properties) ->
                exportQueue.gated(
                    processor, properties.getInt("otel.bsp.max.queue.size", BSP_QUEUE_DEFAULT)))
        .addSamplerCustomizer(CorrelatorApp::sampleEverySpan)
        .addTracerProviderCustomizer(
            (builder, properties) -> {
              requireLinkLimit(properties, maxLinks);
              return builder.setIdGenerator(DeterministicIds.idGenerator());
            })
        .build()
        .getOpenTelemetrySdk();
  }

  /**
   * The aggregate spans are the correlator's output, not a sample of its work: a sampler meant for
   * request traces (say a fleet-wide {@code OTEL_TRACES_SAMPLER=traceidratio}) would drop whole
   * windows' links silently. So this tracer provider, which records only aggregate and chunk spans,
   * always samples; any other configured sampler is named in a warning and not used.
   */
  private static Sampler sampleEverySpan(Sampler configured, ConfigProperties properties) {
    String name = properties.getString("otel.traces.sampler");
    if (name != null && !SAMPLING_EVERYTHING.contains(name.trim().toLowerCase(Locale.ROOT))) {
      LOG.warn(
          "OTEL_TRACES_SAMPLER={} is not used: the correlator records and samples every aggregate"
              + " span (they are its output); sampling applies to your other services",
          name);
    }
    return Sampler.alwaysOn();
  }

  private static void requireLinkLimit(ConfigProperties properties, int maxLinks) {
    int limit = properties.getInt("otel.span.link.count.limit", 128);
    if (limit < maxLinks) {
      throw new IllegalArgumentException(
          "OTEL_SPAN_LINK_COUNT_LIMIT ("
              + limit
              + ") is below correlator.links.per.span.max ("
              + maxLinks
              + "): the SDK would drop links; raise the limit or lower the budget");
    }
  }

  /**
   * The running Kafka Streams instance.
   *
   * @return the streams
   */
  public KafkaStreams streams() {
    return streams;
  }

  /**
   * Closes Kafka Streams, then flushes and closes OpenTelemetry, so no emitted span is lost. When
   * Kafka Streams does not close within {@code correlator.close.timeout.ms} its threads may still
   * emit spans, so OpenTelemetry is left open (never closed under a running thread) and the timeout
   * is logged.
   */
  @Override
  public void close() {
    try {
      stop(() -> streams.close(closeTimeout), openTelemetry, closeTimeout);
    } finally {
      if (health != null) {
        health.close(); // after Kafka Streams: meanwhile readiness says it is shutting down
      }
    }
  }

  /**
   * Stops in order: Kafka Streams first; only when its threads have stopped are the spans flushed
   * and OpenTelemetry closed.
   *
   * @param closeStreams closes Kafka Streams; true when its threads stopped in time
   * @return whether OpenTelemetry was flushed and closed
   */
  static boolean stop(
      BooleanSupplier closeStreams, OpenTelemetrySdk openTelemetry, Duration timeout) {
    LOG.info("stopping: closing Kafka Streams");
    if (!closeStreams.getAsBoolean()) {
      LOG.error(
          "stopping: Kafka Streams did not close within {} ms (correlator.close.timeout.ms);"
              + " OpenTelemetry is not flushed or closed while stream threads may still run, so"
              + " spans not exported yet are lost; raise the timeout (and the orchestrator's grace"
              + " period with it)",
          timeout.toMillis());
      return false;
    }
    LOG.info("stopping: flushing spans");
    openTelemetry
        .getSdkTracerProvider()
        .forceFlush()
        .join(timeout.toMillis(), TimeUnit.MILLISECONDS);
    openTelemetry.close();
    LOG.info("stopped");
    return true;
  }
}
