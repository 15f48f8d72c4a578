package io.linkcorrelator.embedded;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka cluster in this JVM: one KRaft process that is both broker and
 * controller, on free loopback ports, with its data in a temporary directory removed on {@link
 * #close()}.
 *
 * <p>Storage is formatted with {@code kafka.tools.StorageTool}, then {@code
 * kafka.server.KafkaRaftServer} runs it, as {@code bin/kafka-server-start.sh} would. Internal
 * topics (consumer offsets, transaction state, share-group state) use replication factor 1, so
 * transactions and exactly-once Kafka Streams work. It starts in about two seconds.
 *
 * <p>{@link #stop()} and {@link #restart()} restart the same broker on the same ports and data, for
 * tests of a broker outage.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *   kafka.createTopic("orders", 4);
 *   producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 * }
 * }</pre>
 *
 * <p>In a test class, JUnit's {@code @AutoClose} closes it: {@code @AutoClose static final
 * EmbeddedKafka kafka = EmbeddedKafka.start();} is one broker for all tests of the class, the same
 * field without {@code static} one broker for each test.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path directory;
  private final int brokerPort;
  private final KafkaConfig config;
  private KafkaRaftServer server;

  private EmbeddedKafka(Map<String, String> overrides) throws IOException {
    this.directory = Files.createTempDirectory("embedded-kafka-");
    this.brokerPort = freePort();
    int controllerPort = freePort();
    Map<String, String> props = new HashMap<>();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@localhost:" + controllerPort);
    props.put(
        "listeners",
        "PLAINTEXT://localhost:" + brokerPort + ",CONTROLLER://localhost:" + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPort);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.put("log.dirs", directory.resolve("data").toString());
    // One node: every internal topic has one replica, few partitions (fast to create and load).
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("num.partitions", "1");
    props.put("auto.create.topics.enable", "false");
    props.putAll(overrides);
    this.config = KafkaConfig.fromProps(toProperties(props), false);
    format(props);
  }

  /**
   * Formats storage and starts a broker with the default settings.
   *
   * @return the running broker
   */
  public static EmbeddedKafka start() {
    return start(Map.of());
  }

  /**
   * Formats storage and starts a broker.
   *
   * @param overrides broker settings that replace the defaults (e.g. {@code
   *     "auto.create.topics.enable" -> "true"})
   * @return the running broker
   */
  public static EmbeddedKafka start(Map<String, String> overrides) {
    requireNonNull(overrides, "overrides");
    try {
      EmbeddedKafka kafka = new EmbeddedKafka(overrides);
      kafka.startServer();
      return kafka;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded Kafka broker", e);
    }
  }

  /**
   * The {@code bootstrap.servers} value for clients.
   *
   * @return {@code localhost:<port>}
   */
  public String bootstrapServers() {
    return "localhost:" + brokerPort;
  }

  /**
   * Creates topics and waits until they exist.
   *
   * @param partitions partitions of each topic
   * @param names topic names
   */
  public void createTopics(int partitions, String... names) {
    List<NewTopic> topics =
        Stream.of(names).map(name -> new NewTopic(name, partitions, (short) 1)).toList();
    try (Admin admin = admin()) {
      admin.createTopics(topics).all().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating " + List.of(names), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topics " + List.of(names), e.getCause());
    }
  }

  /**
   * Creates one topic and waits until it exists.
   *
   * @param name topic name
   * @param partitions number of partitions
   */
  public void createTopic(String name, int partitions) {
    createTopics(partitions, name);
  }

  /**
   * A new admin client for this broker; the caller closes it.
   *
   * @return an admin client
   */
  public Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
  }

  /** Starts the broker again after {@link #stop()}, on the same ports and data. */
  public synchronized void restart() {
    if (server == null) {
      startServer();
    }
  }

  /** Stops the broker, keeping its data and ports, so that {@link #restart()} can bring it back. */
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Stops the broker and deletes its data. */
  @Override
  public void close() {
    stop();
    deleteRecursively(directory);
  }

  private synchronized void startServer() {
    long started = System.nanoTime();
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    LOG.info(
        "embedded Kafka on {} started in {} ms",
        bootstrapServers(),
        (System.nanoTime() - started) / 1_000_000);
  }

  private void format(Map<String, String> props) throws IOException {
    Path configFile = directory.resolve("server.properties");
    try (OutputStream out = Files.newOutputStream(configFile)) {
      toProperties(props).store(out, "embedded Kafka");
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int exit;
    try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      exit =
          StorageTool.execute(
              new String[] {
                "format",
                "--cluster-id",
                Uuid.randomUuid().toString(),
                "--config",
                configFile.toString()
              },
              print);
    }
    if (exit != 0) {
      throw new IllegalStateException(
          "kafka-storage format failed (" + exit + "): " + output.toString(StandardCharsets.UTF_8));
    }
  }

  private static Properties toProperties(Map<String, String> map) {
    Properties properties = new Properties();
    properties.putAll(map);
    return properties;
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      LOG.warn("cannot delete {}", root, e);
    }
  }
}
