package io.linkcorrelator.streams;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * How often the record cache of a store has written to it, per store and task: when an emitted
 * window may leave the window state ({@link OpenWindows}); and the hook before every commit where
 * the {@link ContributorLog} writes its open pages ({@link #beforeCommit}). Kafka Streams stacks a
 * cached store as metered, caching, change-logging, inner; the inner store supplied here ({@link
 * #supplier}) is the real one (RocksDB for the log, in memory for the window state) behind a thin
 * delegate that counts every write reaching it (put, putIfAbsent, putAll, delete) and every flush
 * and commit. Whatever reaches it has also reached the changelog.
 *
 * <p>One counter per store and task (the store fills its task's in {@code init}, the processor
 * reads the one of its task). The window state depends on it: a change means that every write made
 * before it has reached the changelog (a cache writes all of its store's dirty entries at once, on
 * commit and on eviction).
 */
final class CacheFlushes {

  private final Map<StoreOfTask, AtomicLong> counts = new ConcurrentHashMap<>();

  private final Map<StoreOfTask, Runnable> beforeCommits = new ConcurrentHashMap<>();

  private record StoreOfTask(String store, TaskId task) {}

  /**
   * The count of a task's store named {@code store}, from zero; the same object for the store and
   * the processor.
   */
  AtomicLong of(String store, TaskId task) {
    return counts.computeIfAbsent(new StoreOfTask(store, task), key -> new AtomicLong());
  }

  /**
   * Has {@code write} run whenever Kafka Streams flushes the caches of the task's stores, which it
   * does before every commit (and before a task is suspended or closed): the {@link ContributorLog}
   * writes its open pages then. Kafka Streams asks every store that implements its {@code
   * CachedStateStore} (an internal interface) to flush its cache, and the layers it stacks
   * (metered, change-logging) pass the call down to the store supplied here. Replaces what the
   * task's earlier processor instance registered (a task revived after a failure).
   */
  void beforeCommit(String store, TaskId task, Runnable write) {
    beforeCommits.put(new StoreOfTask(store, task), write);
  }

  /** The stores of {@code inner}, counting what reaches them. */
  KeyValueBytesStoreSupplier supplier(KeyValueBytesStoreSupplier inner) {
    return new KeyValueBytesStoreSupplier() {
      @Override
      public String name() {
        return inner.name();
      }

      @Override
      public KeyValueStore<Bytes, byte[]> get() {
        return new Counting(inner.get());
      }

      @Override
      public String metricsScope() {
        return inner.metricsScope();
      }
    };
  }

  /**
   * Delegates every method to the inner store; counts the writes, flushes and commits; runs the
   * task's {@link #beforeCommit} when its caches are flushed.
   */
  private final class Counting
      implements KeyValueStore<Bytes, byte[]>, CachedStateStore<Bytes, byte[]> {
    private final KeyValueStore<Bytes, byte[]> inner;
    private AtomicLong count = new AtomicLong(); // until init names the task
    private StoreOfTask storeOfTask;

    private Counting(KeyValueStore<Bytes, byte[]> inner) {
      this.inner = inner;
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
      count = of(inner.name(), context.taskId());
      storeOfTask = new StoreOfTask(inner.name(), context.taskId());
      inner.init(context, root);
    }

    @Override
    public void flushCache() {
      Runnable write = storeOfTask == null ? null : beforeCommits.get(storeOfTask);
      if (write != null) {
        write.run();
      }
    }

    @Override
    public boolean setFlushListener(
        CacheFlushListener<Bytes, byte[]> listener, boolean sendOldValues) {
      return false; // no cache of Kafka's here
    }

    @Override
    public void clearCache() {}

    @Override
    public void put(Bytes key, byte[] value) {
      count.incrementAndGet();
      inner.put(key, value);
    }

    @Override
    public byte[] putIfAbsent(Bytes key, byte[] value) {
      count.incrementAndGet();
      return inner.putIfAbsent(key, value);
    }

    @Override
    public void putAll(List<KeyValue<Bytes, byte[]>> entries) {
      count.incrementAndGet();
      inner.putAll(entries);
    }

    @Override
    public byte[] delete(Bytes key) {
      count.incrementAndGet();
      return inner.delete(key);
    }

    @Override
    public void flush() {
      count.incrementAndGet();
      inner.flush();
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
      count.incrementAndGet();
      inner.commit(changelogOffsets);
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
      return inner.committedOffset(partition);
    }

    @Override
    public boolean managesOffsets() {
      return inner.managesOffsets();
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public void close() {
      inner.close();
    }

    @Override
    public boolean persistent() {
      return inner.persistent();
    }

    @Override
    public boolean isOpen() {
      return inner.isOpen();
    }

    @Override
    public <R> QueryResult<R> query(
        Query<R> query, PositionBound positionBound, QueryConfig config) {
      return inner.query(query, positionBound, config);
    }

    @Override
    public long approximateNumUncommittedBytes() {
      return inner.approximateNumUncommittedBytes();
    }

    @Override
    public Position getPosition() {
      return inner.getPosition();
    }

    @Override
    public byte[] get(Bytes key) {
      return inner.get(key);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> range(Bytes from, Bytes to) {
      return inner.range(from, to);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseRange(Bytes from, Bytes to) {
      return inner.reverseRange(from, to);
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> all() {
      return inner.all();
    }

    @Override
    public KeyValueIterator<Bytes, byte[]> reverseAll() {
      return inner.reverseAll();
    }

    @Override
    public <PS extends Serializer<P>, P> KeyValueIterator<Bytes, byte[]> prefixScan(
        P prefix, PS prefixKeySerializer) {
      return inner.prefixScan(prefix, prefixKeySerializer);
    }

    @Override
    public long approximateNumEntries() {
      return inner.approximateNumEntries();
    }

    @Override
    public ReadOnlyKeyValueStore<Bytes, byte[]> readOnly(IsolationLevel isolationLevel) {
      return inner.readOnly(isolationLevel);
    }
  }
}
