package io.linkcorrelator.streams;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The contributor log ({@code <name>-contributors}): every accepted message of a group key, written
 * once, whatever the window type and however many windows the message falls in, in PAGES. A
 * window's contributors are the entries of its key in its time range that arrived before it closed
 * (and, for a session, that no overlapping older session holds: {@link SessionWindowRule}).
 *
 * <p>Event time is cut into buckets of a width chosen per window type ({@link #bucketWidth}) so
 * that pages line up with windows. A page holds entries of one key and one bucket; its key is the
 * group key, the bucket start and the source of its first entry ({@link StateKeys#logPage}); its
 * value is a header and the entries one after the other:
 *
 * <pre>
 * page   : layout 0xA1 · entry count (varint) · least and greatest event time (varints, from the
 *          bucket start) · entries
 * entry  : event time (varint, from the bucket start) · source · length (varint) and the rest
 *          ({@link ContributionSerde#writeEntry})
 * source : (offset − the previous entry's offset) · 2 (varlong), when the previous entry of the
 *          page came from the same topic and partition; else offset · 2 + 1 (varlong) · partition
 *          (varint) · topic id (varint)
 * </pre>
 *
 * A page's entries mostly come from one partition (its key's), in offset order: the source of all
 * but its first entry is then the distance to the previous offset, one or two bytes. A linked
 * message takes about 31 bytes of a page. The topic ids are kept in the window state ({@link
 * StateKeys#logTopicId}), written once per topic. A topic's id is its place among the input topics
 * in name order, when they are known ({@code LinkedAggregations#withInputTopics}; else in order of
 * first sight) (or the next free one when a changed configuration made that one taken), so that a
 * record reprocessed after its id was lost in a crash gets the same id again.
 *
 * <p><b>Append</b> writes the entry at the end of its page in memory: no store operation (but a
 * read per page started under at-least-once, see below). The log keeps the pages appended to since
 * it last wrote, OPEN pages, by group key and bucket, and writes each once to the store (and so to
 * the changelog) before every commit: Kafka Streams flushes its stores' caches then, and {@link
 * CacheFlushes#beforeCommit} passes that to {@link #writeOpenPages}; also whenever they hold more
 * than {@value #OPEN_BYTES} bytes, and a page at once when it reaches {@value #PAGE_BYTES} bytes.
 * The next append to a bucket then starts a new page, so a page reaches the changelog once, and one
 * commit interval costs one changelog record per (key, bucket) whatever its entry count. The store
 * has no record cache of Kafka's (the open pages are the log's cache); reads and frees see the open
 * pages as well as the stored ones, and a page freed while open is never written. Under
 * exactly-once a transaction that fails takes the open pages with it (the task's processor starts
 * again with a new log). Under at-least-once, starting a page reads its key: a message processed
 * again after a failure would otherwise start the page it started before again and overwrite the
 * entries that page took after it; instead the page is continued. Under exactly-once no message is
 * processed again into a state that holds its page (a failed transaction's writes are not
 * restored), so a page starts without a read.
 *
 * <p><b>Reads</b> ({@link #entries}) scan the key's pages of the buckets that overlap the range,
 * keep the entries in it, sort them by (event time, topic id, partition, offset) and drop exact
 * duplicates: a message processed again after a failure (at-least-once) may be in two pages, and is
 * one contributor. What a read holds is the pages' bytes and a few numbers per entry, in arrays:
 * proportional to the window's contributors, not objects for them. {@link #any} reads the page
 * headers first and decodes only pages that straddle the range's ends.
 *
 * <p><b>Free</b> deletes whole pages, once every entry of theirs is dead: the rules free a key's
 * log below the earliest start of its open windows once a window has closed, and windows of one key
 * close in start order (see {@link WindowRule#free}), so a later free never starts above an earlier
 * one's end and nothing below it is read again. A bucket that a free covers only partly stays until
 * a later one covers it; a key without open windows leaves nothing.
 */
final class ContributorLog {

  /** A page takes no more entries once it holds this many bytes. */
  static final int PAGE_BYTES = 4096;

  /** The open pages are written once they hold more than this many bytes, commit or not. */
  static final int OPEN_BYTES = 1 << 20;

  /**
   * The first byte of a page. Earlier layouts: entries of one message each (0x80-0x8F), pages whose
   * entries each carried partition, offset and topic id in full (0xA0).
   */
  static final byte PAGE_LAYOUT = (byte) 0xA1;

  private final KeyValueStore<Bytes, byte[]> store;
  private final KeyValueStore<Bytes, byte[]> ids;
  private final List<String> inputTopics;
  private final Map<String, Integer> topicIds = new HashMap<>();
  private final List<String> topics = new ArrayList<>();
  private final long bucketWidth;
  private final boolean atLeastOnce;

  /** The pages appended to since the last write, by group key: few per key. */
  private final Map<Bytes, List<Page>> open = new HashMap<>();

  /** The bytes of the open pages. */
  private long openBytes;

  /** The last topic appended and its id: a task reads from few topics, mostly in runs. */
  private String lastTopic;

  private int lastTopicId;

  /**
   * @param store the log, cached
   * @param ids where the topic ids are kept
   * @param inputTopics the configured input topics
   * @param bucketWidth the width of the pages' event-time buckets, {@link #bucketWidth}
   * @param atLeastOnce whether a message may be processed again after a failure with its earlier
   *     writes kept (at-least-once): then a page's start reads whether it exists
   */
  ContributorLog(
      KeyValueStore<Bytes, byte[]> store,
      KeyValueStore<Bytes, byte[]> ids,
      List<String> inputTopics,
      long bucketWidth,
      boolean atLeastOnce) {
    if (bucketWidth < 1) {
      throw new IllegalArgumentException("bucket width " + bucketWidth + " must be positive");
    }
    this.store = store;
    this.ids = ids;
    this.inputTopics = inputTopics.stream().sorted().toList();
    this.bucketWidth = bucketWidth;
    this.atLeastOnce = atLeastOnce;
    try (KeyValueIterator<Bytes, byte[]> stored =
        ids.range(StateKeys.logTopicIdsFrom(), StateKeys.logTopicIdsTo())) {
      stored.forEachRemaining(
          entry -> remember(StateKeys.topicOfLogTopicId(entry.key), decodeId(entry.value)));
    }
  }

  /**
   * The bucket width of a window type, so that pages line up with windows: tumbling, the size (a
   * window is one bucket); hopping, the greatest common divisor of size and advance (a window is
   * whole buckets); session, the gap (a session overlaps at most two buckets more than it covers,
   * and a bucket at most two sessions); sliding, an eighth of the window ({@code (difference + 1) /
   * 8}, at least 1 ms): a window overlaps at most nine buckets, so a read takes at most a quarter
   * more entries than the window holds, and the sliding rule's per-record {@link #any} looks at the
   * pages of at most nine buckets, deciding most by their headers.
   */
  static long bucketWidth(WindowSpec spec) {
    return switch (spec.type()) {
      case TUMBLING -> spec.sizeMs();
      case HOPPING -> gcd(spec.sizeMs(), spec.advanceMs());
      case SLIDING -> Math.max(1, spec.sizeMs() / 8);
      case SESSION -> Math.max(1, spec.gapMs());
      default -> throw new IllegalArgumentException("unsupported window type " + spec.type());
    };
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /**
   * Appends a contribution of key at the end of its open page, in memory: no store operation (but
   * see {@link #start}).
   *
   * @param streamTime the stream time when it arrived, its own event time included: a window that
   *     had closed by then does not hold it ({@link WindowRule#contributors})
   * @param atHorizon whether it started a session at the horizon ({@link SessionWindowRule}): the
   *     entry is marked, at no cost in bytes
   */
  void append(byte[] key, Contribution contribution, long streamTime, boolean atHorizon) {
    long time = contribution.timestamp();
    long bucket = bucketOf(time);
    int topicId = topicId(contribution.topic());
    int partition = contribution.partition();
    long offset = contribution.offset();
    long arrivalLag = Math.max(0, WindowSpec.minus(streamTime, time));
    int restLength = ContributionSerde.entrySize(contribution, arrivalLag);
    Bytes groupKey = Bytes.wrap(key);
    List<Page> pages = open.computeIfAbsent(groupKey, k -> new ArrayList<>(2));
    Page page = null;
    for (Page candidate : pages) {
      if (candidate.bucket == bucket) {
        page = candidate;
      }
    }
    int entrySize = page == null ? 0 : entrySize(page, time - bucket, topicId, partition, offset);
    if (page == null || page.bytes() + entrySize + restLength > PAGE_BYTES) {
      if (page != null) {
        write(page); // full: it goes now, the bucket takes a new page
        pages.remove(page);
      }
      page = start(StateKeys.logPage(key, bucket, topicId, partition, offset), bucket);
      pages.add(page);
      openBytes += page.length;
      entrySize = entrySize(page, time - bucket, topicId, partition, offset);
      if (page.count > 0 && page.bytes() + entrySize + restLength > PAGE_BYTES) {
        return; // the message is in the log already: it started this page before
      }
    }
    int size = entrySize + Varints.sizeOf(restLength) + restLength;
    ByteBuffer out = page.room(size);
    Varints.write(time - bucket, out);
    if (page.sameSource(topicId, partition)) {
      Varints.write((offset - page.offset) << 1, out);
    } else {
      Varints.write(offset << 1 | 1, out);
      Varints.write(partition, out);
      Varints.write(topicId, out);
    }
    Varints.write(restLength, out);
    ContributionSerde.writeEntry(contribution, arrivalLag, atHorizon, out);
    page.took(time - bucket, topicId, partition, offset, size);
    openBytes += size;
    if (openBytes > OPEN_BYTES) {
      writeOpenPages();
    }
  }

  /**
   * Writes the open pages to the store, each once, and starts new ones for later appends: before
   * every commit ({@link CacheFlushes#beforeCommit}), and whenever they hold more than {@value
   * #OPEN_BYTES} bytes.
   */
  void writeOpenPages() {
    for (List<Page> pages : open.values()) {
      for (Page page : pages) {
        write(page);
      }
    }
    open.clear();
    openBytes = 0;
  }

  private void write(Page page) {
    store.put(page.key, page.value());
    openBytes -= page.length;
  }

  /** The bytes of an entry's event time and source in page, without its rest. */
  private static int entrySize(Page page, long time, int topicId, int partition, long offset) {
    return Varints.sizeOf(time)
        + (page.sameSource(topicId, partition)
            ? Varints.sizeOf((offset - page.offset) << 1)
            : Varints.sizeOf(offset << 1 | 1)
                + Varints.sizeOf(partition)
                + Varints.sizeOf(topicId));
  }

  /**
   * A new page; or, under at-least-once, when its message started a page before (it is processed
   * again after a failure), that page, so that its other entries are kept. One read per page, not
   * per entry.
   */
  private Page start(Bytes pageKey, long bucket) {
    Page page = new Page(pageKey, bucket);
    byte[] before = atLeastOnce ? store.get(pageKey) : null;
    if (before != null) {
      PageReader reader = new PageReader(new KeyValue<>(pageKey, before));
      int header = reader.in.position() - reader.in.arrayOffset();
      page.entries = Arrays.copyOfRange(before, header, Math.max(before.length, header + 64));
      page.length = before.length - header;
      page.count = reader.count;
      page.min = reader.min - reader.bucket;
      page.max = reader.max - reader.bucket;
      while (reader.next()) {
        page.topicId = reader.topicId;
        page.partition = reader.partition;
        page.offset = reader.offset;
      }
    }
    return page;
  }

  /**
   * The contributions of key with event times in [from, to] that {@code holds} keeps, in (event
   * time, topic id, partition, offset) order, each message once.
   */
  Entries entries(byte[] key, long from, long to, Holds holds) {
    Entries entries = new Entries();
    if (from > to) {
      return entries;
    }
    List<Page> opened = openPages(key, from, to);
    try (KeyValueIterator<Bytes, byte[]> pages = pages(key, from, to)) {
      while (pages.hasNext()) {
        KeyValue<Bytes, byte[]> page = pages.next();
        if (isOpen(opened, page.key)) {
          continue; // continued after a failure (at-least-once): the open page holds it all
        }
        PageReader reader = new PageReader(page);
        if (reader.overlaps(from, to)) {
          entries.addPage(reader, from, to, holds);
        }
      }
    }
    for (Page page : opened) {
      PageReader reader = new PageReader(page);
      if (reader.overlaps(from, to)) {
        entries.addPage(reader, from, to, holds);
      }
    }
    entries.sort();
    return entries;
  }

  /** Whether key has an entry with an event time in [from, to]. */
  boolean any(byte[] key, long from, long to) {
    if (from > to) {
      return false;
    }
    List<Page> opened = open.getOrDefault(Bytes.wrap(key), List.of());
    for (Page page : opened) { // no list of them: per record on the sliding rule's path
      if (inBuckets(page, from, to) && any(new PageReader(page), from, to)) {
        return true;
      }
    }
    try (KeyValueIterator<Bytes, byte[]> pages = pages(key, from, to)) {
      while (pages.hasNext()) {
        if (any(new PageReader(pages.next()), from, to)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean any(PageReader reader, long from, long to) {
    if (!reader.overlaps(from, to)) {
      return false;
    }
    if (reader.within(from, to)) {
      return true;
    }
    while (reader.next()) {
      if (reader.time >= from && reader.time <= to) {
        return true;
      }
    }
    return false;
  }

  /** The open pages of key in the buckets that overlap [from, to]. */
  private List<Page> openPages(byte[] key, long from, long to) {
    List<Page> pages = open.get(Bytes.wrap(key));
    if (pages == null) {
      return List.of();
    }
    List<Page> overlapping = new ArrayList<>(pages.size());
    for (Page page : pages) {
      if (inBuckets(page, from, to)) {
        overlapping.add(page);
      }
    }
    return overlapping;
  }

  /** Whether page's bucket overlaps [from, to]. */
  private boolean inBuckets(Page page, long from, long to) {
    return page.bucket >= bucketOf(from) && page.bucket <= bucketOf(to);
  }

  private static boolean isOpen(List<Page> opened, Bytes pageKey) {
    for (Page page : opened) {
      if (page.key.equals(pageKey)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Deletes the pages of key whose buckets end at or before {@code to}, from the bucket holding
   * {@code from} on (every page below it is gone already: the entries below {@code from} were dead
   * when an earlier free ended at or above it); it holds the keys of the pages it deletes. A page's
   * entries below {@code to} are dead; those at or above it stay until a later free covers their
   * whole bucket. With {@code to} {@link Long#MAX_VALUE} every page of key goes.
   */
  void free(byte[] key, long from, long to) {
    if (from >= to) {
      return;
    }
    long firstBucket = bucketOf(from);
    // The last bucket ending at or before to.
    long lastBucket = to == Long.MAX_VALUE ? Long.MAX_VALUE : bucketOf(to) - bucketWidth;
    if (lastBucket < firstBucket) {
      return;
    }
    Bytes first = StateKeys.logFrom(key, firstBucket);
    Bytes last = StateKeys.logTo(key, lastBucket);
    List<Page> opened = open.get(Bytes.wrap(key));
    if (opened != null) { // never written: they go without a trace
      opened.removeIf(
          page -> {
            boolean freed = page.bucket >= firstBucket && page.bucket <= lastBucket;
            if (freed) {
              openBytes -= page.length;
            }
            return freed;
          });
      if (opened.isEmpty()) {
        open.remove(Bytes.wrap(key));
      }
    }
    // One pass, then the deletes (a store may not be written while it is iterated).
    List<Bytes> free = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> pages = store.range(first, last)) {
      pages.forEachRemaining(page -> free.add(page.key));
    }
    for (Bytes page : free) {
      store.delete(page);
    }
  }

  /** The pages of key in the buckets that overlap [from, to]. */
  private KeyValueIterator<Bytes, byte[]> pages(byte[] key, long from, long to) {
    return store.range(StateKeys.logFrom(key, bucketOf(from)), StateKeys.logTo(key, bucketOf(to)));
  }

  private long bucketOf(long time) {
    return time - Math.floorMod(time, bucketWidth);
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

  private String topicOf(int id) {
    String topic = id >= 0 && id < topics.size() ? topics.get(id) : null;
    if (topic == null) {
      throw new SerializationException("contributor log entry names an unknown topic id " + id);
    }
    return topic;
  }

  private static int decodeId(byte[] value) {
    return Varints.readInt(ByteBuffer.wrap(value));
  }

  /** Which entries of its time range a window holds, by what the log knows of each. */
  @FunctionalInterface
  interface Holds {
    /**
     * @param time the entry's event time
     * @param arrival the stream time when it was appended (its event time plus its arrival lag)
     * @param atHorizon whether it started a session at the horizon ({@link SessionWindowRule})
     */
    boolean test(long time, long arrival, boolean atHorizon);
  }

  /**
   * A page appended to since the log last wrote: its key and bucket, its entries' bytes (appended
   * in place), their count and least and greatest time from the bucket start, and the last entry's
   * source.
   */
  private static final class Page {
    private final Bytes key;
    private final long bucket;
    private byte[] entries = new byte[64];
    private int length;
    private int count;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;

    /** The last entry's source; a topic id of -1 before the first entry. */
    private int topicId = -1;

    private int partition;
    private long offset;

    private Page(Bytes key, long bucket) {
      this.key = key;
      this.bucket = bucket;
    }

    private boolean sameSource(int topicId, int partition) {
      return topicId == this.topicId && partition == this.partition;
    }

    /** The page's size as written: its header and entries. */
    private int bytes() {
      return header(count, min, max) + length;
    }

    /** Where the next entry of {@code size} bytes goes. */
    private ByteBuffer room(int size) {
      if (length + size > entries.length) {
        entries = Arrays.copyOf(entries, Math.max(length + size, entries.length * 2));
      }
      return ByteBuffer.wrap(entries, length, size);
    }

    /** Counts the entry just written into {@link #room}. */
    private void took(long time, int topicId, int partition, long offset, int size) {
      length += size;
      count++;
      min = Math.min(min, time);
      max = Math.max(max, time);
      this.topicId = topicId;
      this.partition = partition;
      this.offset = offset;
    }

    /** The page's bytes as stored: header, then entries. */
    private byte[] value() {
      byte[] value = new byte[bytes()];
      ByteBuffer out = ByteBuffer.wrap(value);
      out.put(PAGE_LAYOUT);
      Varints.write(count, out);
      Varints.write(min, out);
      Varints.write(max, out);
      out.put(entries, 0, length);
      return value;
    }

    private static int header(int count, long min, long max) {
      return 1 + Varints.sizeOf(count) + Varints.sizeOf(min) + Varints.sizeOf(max);
    }
  }

  /** Reads a page: its header at once, then its entries one at a time with {@link #next}. */
  private static final class PageReader {
    private final byte[] value;
    private final ByteBuffer in;
    private final long bucket;
    private final int count;
    private final long min;
    private final long max;
    private int read;
    private long time;
    private int partition;
    private long offset;
    private int topicId = -1;
    private int restAt;
    private int restLength;
    private long arrivalLag;
    private boolean atHorizon;

    /**
     * Reads an open page in place: its entries' bytes as they are (later appends only add bytes
     * after them), its header from its fields; no copy.
     */
    private PageReader(Page page) {
      this.value = page.entries;
      this.bucket = page.bucket;
      this.in = ByteBuffer.wrap(page.entries, 0, page.length);
      this.count = page.count;
      this.min = bucket + page.min;
      this.max = bucket + page.max;
    }

    private PageReader(KeyValue<Bytes, byte[]> page) {
      this.value = page.value;
      this.bucket = StateKeys.bucketOfLog(page.key);
      if (value.length == 0 || value[0] != PAGE_LAYOUT) {
        throw new SerializationException(
            String.format(
                "contributor log page %s of key %s in an unknown layout (first byte 0x%02X, expected"
                    + " 0x%02X): state written by an earlier version of the library (0x80-0x8F: one"
                    + " entry per message; 0xA0: pages of entries with their sources in full);"
                    + " reset the application's state to upgrade",
                page.key,
                StateKeys.groupKeyOfLog(page.key),
                value.length == 0 ? 0 : value[0],
                PAGE_LAYOUT));
      }
      try {
        this.in = ByteBuffer.wrap(value, 1, value.length - 1);
        this.count = Varints.readInt(in);
        this.min = bucket + Varints.readLong(in);
        this.max = bucket + Varints.readLong(in);
      } catch (BufferUnderflowException e) {
        throw corrupt(e);
      }
    }

    /** Whether an entry may lie in [from, to]. */
    boolean overlaps(long from, long to) {
      return count > 0 && min <= to && max >= from;
    }

    /** Whether every entry lies in [from, to]. */
    boolean within(long from, long to) {
      return count > 0 && min >= from && max <= to;
    }

    /** Reads the next entry's source and time; false past the last. */
    boolean next() {
      if (read == count) {
        if (in.hasRemaining()) {
          throw corrupt(null);
        }
        return false;
      }
      try {
        time = bucket + Varints.readLong(in);
        long source = Varints.readLong(in);
        if ((source & 1) == 0 && topicId >= 0) {
          offset += source >> 1;
        } else if ((source & 1) == 1) {
          offset = source >> 1;
          partition = Varints.readInt(in);
          topicId = Varints.readInt(in);
        } else {
          throw corrupt(null); // the first entry names its source
        }
        restLength = Varints.readInt(in);
        restAt = in.position();
        if (restLength < 0 || restLength > in.remaining()) {
          throw corrupt(null);
        }
        in.position(restAt + restLength);
        arrivalLag = ContributionSerde.arrivalLag(value, restAt, restLength);
        atHorizon = ContributionSerde.atHorizon(value, restAt);
      } catch (BufferUnderflowException | IllegalArgumentException e) {
        throw corrupt(e);
      }
      read++;
      return true;
    }

    private SerializationException corrupt(Exception cause) {
      return new SerializationException(
          "corrupt contributor log page (" + value.length + " bytes, " + count + " entries)",
          cause);
    }
  }

  /**
   * Contributions read back from the log in (event time, topic id, partition, offset) order, each
   * message once: the pages' bytes and, per entry, its place in them and its sort key, in arrays;
   * each contribution is decoded as it is taken.
   */
  final class Entries implements Iterator<Contribution>, AutoCloseable {
    private final List<byte[]> pages = new ArrayList<>();
    private long[] times = new long[16];
    private long[] offsets = new long[16];

    /** Per entry: topic id, partition, page index, position and length of the rest. */
    private int[] ints = new int[16 * 5];

    private int size;
    private int[] order = new int[0];
    private int taken;
    private int remaining;

    private Entries() {}

    private void addPage(PageReader page, long from, long to, Holds holds) {
      int index = pages.size();
      pages.add(page.value);
      while (page.next()) {
        if (page.time < from
            || page.time > to
            || !holds.test(
                page.time, WindowSpec.plus(page.time, page.arrivalLag), page.atHorizon)) {
          continue;
        }
        if (size == times.length) {
          times = Arrays.copyOf(times, size * 2);
          offsets = Arrays.copyOf(offsets, size * 2);
          ints = Arrays.copyOf(ints, size * 2 * 5);
        }
        times[size] = page.time;
        offsets[size] = page.offset;
        ints[size * 5] = page.topicId;
        ints[size * 5 + 1] = page.partition;
        ints[size * 5 + 2] = index;
        ints[size * 5 + 3] = page.restAt;
        ints[size * 5 + 4] = page.restLength;
        size++;
      }
    }

    /** Sorts the entries and drops the second and later of each message. */
    private void sort() {
      order = new int[size];
      for (int i = 0; i < size; i++) {
        order[i] = i;
      }
      if (!sorted()) {
        mergeSort(order.clone(), order, 0, size);
      }
      int kept = 0;
      for (int i = 0; i < size; i++) {
        if (kept > 0 && sameMessage(order[kept - 1], order[i])) {
          continue;
        }
        order[kept++] = order[i];
      }
      remaining = kept;
    }

    private boolean sorted() {
      for (int i = 1; i < size; i++) {
        if (compare(order[i - 1], order[i]) > 0) {
          return false;
        }
      }
      return true;
    }

    /** Sorts {@code to[from, until)}, with {@code from} a copy of it (a stable merge sort). */
    private void mergeSort(int[] source, int[] target, int from, int until) {
      if (until - from < 2) {
        return;
      }
      int middle = (from + until) >>> 1;
      mergeSort(target, source, from, middle);
      mergeSort(target, source, middle, until);
      int left = from;
      int right = middle;
      for (int i = from; i < until; i++) {
        if (right >= until || left < middle && compare(source[left], source[right]) <= 0) {
          target[i] = source[left++];
        } else {
          target[i] = source[right++];
        }
      }
    }

    private int compare(int a, int b) {
      int c = Long.compare(times[a], times[b]);
      if (c == 0) {
        c = Integer.compare(ints[a * 5], ints[b * 5]);
      }
      if (c == 0) {
        c = Integer.compare(ints[a * 5 + 1], ints[b * 5 + 1]);
      }
      return c != 0 ? c : Long.compare(offsets[a], offsets[b]);
    }

    private boolean sameMessage(int a, int b) {
      return compare(a, b) == 0;
    }

    @Override
    public boolean hasNext() {
      return taken < remaining;
    }

    @Override
    public Contribution next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int i = order[taken++];
      return ContributionSerde.decodeEntry(
          topicOf(ints[i * 5]),
          ints[i * 5 + 1],
          offsets[i],
          times[i],
          pages.get(ints[i * 5 + 2]),
          ints[i * 5 + 3],
          ints[i * 5 + 4]);
    }

    @Override
    public void close() {
      pages.clear();
    }
  }
}
