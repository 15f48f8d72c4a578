package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The contributor log ({@code <name>-contributors}): one entry per accepted message, keyed by
 * (group key, event time, original message), written once, whatever the window type and however
 * many windows the message falls in. A window's contributors are the entries of its key in its time
 * range.
 *
 * <p>An entry is small: the key holds the event time and the source partition and offset as
 * varints, and the source topic as a small id; the value only the contexts (and the value to
 * aggregate), see {@link ContributionSerde#encodeEntry}. The topic ids are kept in the stream-time
 * store ({@link StateKeys#logTopicId}), written once per topic, so the log holds only entries (its
 * entry count is the held contributors). A topic's id is its place among the input topics in name
 * order, when they are known ({@code LinkedAggregations#withInputTopics}; else in order of first
 * sight) (or the next free one when a changed configuration made that one taken), so that a record
 * reprocessed after its id was lost in a crash gets the same id again.
 */
final class ContributorLog {

  private static final int BATCH = 1_000;

  private final KeyValueStore<Bytes, byte[]> store;
  private final KeyValueStore<Bytes, byte[]> ids;
  private final List<String> inputTopics;
  private final Map<String, Integer> topicIds = new HashMap<>();
  private final List<String> topics = new ArrayList<>();

  /** The last topic appended and its id: a task reads from few topics, mostly in runs. */
  private String lastTopic;

  private int lastTopicId;

  /**
   * @param store the log
   * @param ids where the topic ids are kept
   * @param inputTopics the configured input topics
   */
  ContributorLog(
      KeyValueStore<Bytes, byte[]> store,
      KeyValueStore<Bytes, byte[]> ids,
      List<String> inputTopics) {
    this.store = store;
    this.ids = ids;
    this.inputTopics = inputTopics.stream().sorted().toList();
    try (KeyValueIterator<Bytes, byte[]> stored =
        ids.range(StateKeys.logTopicIdsFrom(), StateKeys.logTopicIdsTo())) {
      stored.forEachRemaining(
          entry -> remember(StateKeys.topicOfLogTopicId(entry.key), decodeId(entry.value)));
    }
  }

  void append(byte[] key, Contribution contribution) {
    store.put(
        StateKeys.log(
            key,
            contribution.timestamp(),
            contribution.partition(),
            contribution.offset(),
            topicId(contribution.topic())),
        ContributionSerde.encodeEntry(contribution));
  }

  /** The contributions of key with event times in [from, to], in event-time order. */
  Entries entries(byte[] key, long from, long to) {
    return new Entries(range(key, from, to));
  }

  /** Whether key has an entry with an event time in [from, to]. */
  boolean any(byte[] key, long from, long to) {
    if (from > to) {
      return false;
    }
    try (KeyValueIterator<Bytes, byte[]> entries = range(key, from, to)) {
      return entries.hasNext();
    }
  }

  /**
   * Deletes the entries of key with event times in [from, to), in batches (deleting while iterating
   * a store is not allowed).
   */
  void free(byte[] key, long from, long to) {
    if (from >= to) {
      return;
    }
    List<Bytes> free = new ArrayList<>();
    do {
      free.clear();
      try (KeyValueIterator<Bytes, byte[]> entries = range(key, from, to - 1)) {
        while (entries.hasNext() && free.size() < BATCH) {
          free.add(entries.next().key);
        }
      }
      free.forEach(store::delete);
    } while (free.size() == BATCH);
  }

  private KeyValueIterator<Bytes, byte[]> range(byte[] key, long from, long to) {
    return store.range(StateKeys.logFrom(key, from), StateKeys.logTo(key, to));
  }

  private int topicId(String topic) {
    if (topic.equals(lastTopic)) {
      return lastTopicId;
    }
    Integer id = topicIds.get(topic);
    if (id == null) {
      int free = Math.max(0, inputTopics.indexOf(topic));
      while (free < topics.size() && topics.get(free) != null) {
        free++;
      }
      id = free;
      ByteBuffer value = ByteBuffer.allocate(Varints.sizeOf(id));
      Varints.write(id, value);
      ids.put(StateKeys.logTopicId(topic), value.array());
      remember(topic, id);
    }
    lastTopic = topic;
    lastTopicId = id;
    return id;
  }

  private void remember(String topic, int id) {
    topicIds.put(topic, id);
    while (topics.size() <= id) {
      topics.add(null);
    }
    topics.set(id, topic);
  }

  private static int decodeId(byte[] value) {
    return Varints.readInt(ByteBuffer.wrap(value));
  }

  private Contribution decode(KeyValue<Bytes, byte[]> entry) {
    ByteBuffer in = StateKeys.logSuffix(entry.key);
    long time = StateKeys.readTime(in);
    int partition = Varints.readInt(in);
    long offset = Varints.readLong(in);
    int id = Varints.readInt(in);
    String topic = id >= 0 && id < topics.size() ? topics.get(id) : null;
    if (topic == null) {
      throw new SerializationException("contributor log entry names an unknown topic id " + id);
    }
    return ContributionSerde.decodeEntry(topic, partition, offset, time, entry.value);
  }

  /** Contributions read back from the log, in event-time order; close after use. */
  final class Entries implements Iterator<Contribution>, AutoCloseable {
    private final KeyValueIterator<Bytes, byte[]> entries;

    private Entries(KeyValueIterator<Bytes, byte[]> entries) {
      this.entries = entries;
    }

    @Override
    public boolean hasNext() {
      return entries.hasNext();
    }

    @Override
    public Contribution next() {
      return decode(entries.next());
    }

    @Override
    public void close() {
      entries.close();
    }
  }
}
