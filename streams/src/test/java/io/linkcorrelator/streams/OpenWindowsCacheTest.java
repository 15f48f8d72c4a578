package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * The open windows over the window state as it runs: an in-memory store behind Kafka's record
 * cache, small enough here that the cache evicts (on a broker the contributor log's pages share
 * it).
 */
class OpenWindowsCacheTest {

  private static final WindowSpec SESSIONS =
      WindowSpec.session(Duration.ofMillis(50), Duration.ZERO);

  @Test
  void aWindowRemovedWhileTheCacheHoldsItsDeletionIsNotFoundAgain() {
    List<List<Bytes>> found = new ArrayList<>();
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("windows"), Serdes.Bytes(), Serdes.ByteArray())
            .withCachingEnabled());
    builder.stream("in", Consumed.with(Serdes.String(), Serdes.String()))
        .process(() -> new Probe(found), "windows");
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "open-windows-cache");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 2_000);
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
      TestInputTopic<String, String> input =
          driver.createInputTopic("in", new StringSerializer(), new StringSerializer());
      input.pipeInput("k", "register"); // committed: in the store, and evicted from the cache
      input.pipeInput("k", "remove"); // the deletion stays in the cache until the next commit
    }

    Bytes first = StateKeys.window(key("a"), 0, 10);
    Bytes third = StateKeys.window(key("a"), 200, 210);
    assertThat(found)
        .as("the last window before 300 ending after 300; the windows starting in [0, 300]")
        .containsExactly(List.of(), List.of(first, third));
  }

  /**
   * Registers windows of key a ([0, 10), [100, 400), [200, 210)) and many others; then removes a's
   * second and looks a's up.
   */
  private static final class Probe implements Processor<String, String, Void, Void> {
    private final List<List<Bytes>> found;
    private OpenWindows windows;

    Probe(List<List<Bytes>> found) {
      this.found = found;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      KeyValueStore<Bytes, byte[]> state = context.getStateStore("windows");
      windows = new OpenWindows(state, SESSIONS, null);
    }

    @Override
    public void process(Record<String, String> record) {
      if (record.value().equals("register")) {
        windows.register(key("a"), 0, 10, 0, 1);
        windows.register(key("a"), 100, 400, 0, 1);
        windows.register(key("a"), 200, 210, 0, 1);
        for (int i = 0; i < 100; i++) {
          windows.register(key("b" + i), 0, 10, 0, 1);
        }
        return;
      }
      windows.remove(StateKeys.window(key("a"), 100, 400));
      Bytes reaching = windows.lastStartingBy(key("a"), 300, 300);
      found.add(reaching == null ? List.of() : List.of(reaching));
      found.add(windows.starting(key("a"), 0, 300));
    }
  }

  private static byte[] key(String key) {
    return StateKeys.groupKey(key);
  }
}
