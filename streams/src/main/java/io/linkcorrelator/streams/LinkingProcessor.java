package io.linkcorrelator.streams;

import io.linkcorrelator.streams.LinkedAggregation.Emission;
import io.linkcorrelator.streams.LinkedAggregation.Kind;
import io.linkcorrelator.streams.propagation.KafkaHeadersSetter;
import io.linkcorrelator.streams.propagation.TraceContext;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.kstream.Window;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.Change;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.SessionStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DSL processor of a {@link LinkedAggregation} — the aggregation itself, or the {@code suppress}
 * right after it — wrapped: the aggregation's records are captured as contributors (their trace
 * contexts, original topic, partition and offset), and every result the processor forwards gets an
 * aggregate span linked to its contributors, whose context replaces the trace headers of the record
 * the downstream processors see.
 *
 * <p>The DSL processor is handed a {@link ProcessorContext} that is the task's own with {@code
 * forward} intercepted (a {@link Proxy} of {@link InternalProcessorContext}, the type the DSL
 * processors cast their context to): results forwarded from {@code process}, from a punctuation or
 * from a cache flush all pass through {@link #linked}.
 */
final class LinkingProcessor<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {

  private static final Logger LOG = LoggerFactory.getLogger(LinkingProcessor.class);
  private static final HexFormat HEX = HexFormat.of();

  /** Which processor of the aggregation this wraps. */
  enum Role {
    AGGREGATION,
    SUPPRESS
  }

  private final Processor<KIn, VIn, KOut, VOut> inner;
  private final LinkedAggregation aggregation;
  private final Role role;
  private final LinkSettings settings;
  private final AggregateSpan.Shape shape;
  private ProcessorContext<KOut, VOut> context;
  private Contributors contributors;
  private StateStore dslStore;

  /** The record being processed, while the DSL processor handles it (updates link it at once). */
  private Contribution current;

  /** The largest event time the aggregation has seen: its stream time. */
  private long streamTime = Long.MIN_VALUE;

  private byte[] currentKey;
  private boolean currentLinked;

  LinkingProcessor(
      Processor<KIn, VIn, KOut, VOut> inner,
      LinkedAggregation aggregation,
      Role role,
      LinkSettings settings) {
    this.inner = inner;
    this.aggregation = aggregation;
    this.role = role;
    this.settings = settings;
    this.shape = settings.shape(aggregation);
  }

  @Override
  public void init(ProcessorContext<KOut, VOut> context) {
    this.context = context;
    this.contributors =
        new Contributors(context.getStateStore(aggregation.contributorStore().name()));
    inner.init(intercepting(context));
    if (role == Role.AGGREGATION) {
      dslStore = context.getStateStore(aggregation.dslStore);
      aggregation.keySerdes(DslInternals.serdes(aggregation.processor, dslStore));
    }
  }

  @Override
  public void process(Record<KIn, VIn> record) {
    if (role == Role.SUPPRESS || record.key() == null) {
      inner.process(record); // the DSL drops a null key; a suppress adds no contributor
      return;
    }
    Contribution contribution = capture(record);
    byte[] key = aggregation.keyBytes(record.key());
    streamTime = Math.max(streamTime, record.timestamp());
    current = contribution;
    currentKey = key;
    currentLinked = false;
    try {
      inner.process(record);
    } finally {
      current = null;
      currentKey = null;
    }
    if (currentLinked && aggregation.emission() == Emission.UPDATES) {
      return; // its update is out, linked to it
    }
    if (accepted(record)) {
      contributors.append(
          key,
          contribution,
          aggregation.emission() != Emission.UPDATES && aggregation.kind == Kind.SLIDING
              ? contribution.timestamp()
              : Contributors.NEVER);
    }
  }

  /**
   * Whether the DSL aggregation took the record in. A sliding window's late record is kept anyway:
   * every window that could hold it has emitted, so no result links it, and it expires with the
   * records of its time. Otherwise a late record would stay: a tumbling or hopping window's is kept
   * only if one of its windows is open by the DSL's rule, a session's only if a session holds it
   * now; a non-windowed aggregation drops a record without a value.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private boolean accepted(Record<KIn, VIn> record) {
    return switch (aggregation.kind) {
      case SESSION -> {
        try (KeyValueIterator<?, ?> sessions =
            ((SessionStore) dslStore)
                .findSessions(record.key(), record.timestamp(), record.timestamp())) {
          yield sessions.hasNext();
        }
      }
      case KEYED -> record.value() != null;
      case TUMBLING, HOPPING -> !aggregation.lateForEveryWindow(record.timestamp(), streamTime);
      default -> true;
    };
  }

  @Override
  public void close() {
    inner.close();
  }

  private Contribution capture(Record<KIn, VIn> record) {
    RecordMetadata source = context.recordMetadata().orElse(null);
    List<TraceContext> contexts;
    try {
      contexts = settings.extractor().extract(record.headers());
    } catch (RuntimeException e) {
      LOG.warn(
          "{}: trace context extraction failed at {}, counted as unlinked",
          aggregation.processor,
          where(source),
          e);
      contexts = List.of();
    }
    return new Contribution(
        source == null ? "" : source.topic(),
        source == null ? -1 : source.partition(),
        source == null ? -1 : source.offset(),
        record.timestamp(),
        contexts,
        null);
  }

  /** The record to forward instead of {@code record}: with the aggregate span's context. */
  private Record<?, ?> linked(Record<?, ?> record) {
    Emission emission = aggregation.emission();
    boolean emitsHere =
        role == Role.SUPPRESS
            ? emission == Emission.FINAL_AT_SUPPRESS
            : emission != Emission.FINAL_AT_SUPPRESS;
    if (!emitsHere
        || (record.value() instanceof Change<?> change && change.newValue == null)
        || record.key() == null) {
      return record; // not a result of this processor's to link, or a tombstone
    }
    Object key;
    long from;
    long to;
    long end;
    if (record.key() instanceof Windowed<?> windowed) {
      Window window = windowed.window();
      key = windowed.key();
      from = window.start();
      to = aggregation.lastIncluded(window.end());
      end = to + 1;
    } else {
      key = record.key();
      from = Long.MIN_VALUE;
      to = Long.MAX_VALUE;
      end = 0;
    }
    byte[] keyBytes = aggregation.keyBytes(key);
    boolean updates = emission == Emission.UPDATES;
    Links links = new Links(keyBytes, String.valueOf(key), from, end, updates);
    if (updates) {
      contributors.forEach(keyBytes, from, to, true, links::add);
    } else if (aggregation.kind == Kind.SESSION) {
      contributors.expireAt(keyBytes, from, to, aggregation.sessionExpiry(to), links::add);
      contributors.expireBefore(aggregation.sessionExpiry(to) - aggregation.sessionSlackMs());
    } else if (aggregation.kind == Kind.SLIDING) {
      contributors.forEach(keyBytes, from, to, false, links::add);
      // every window ending before this one has closed: records older than their span are done
      contributors.expireBefore(end - aggregation.spanMs);
    } else {
      // no later window of this key holds a record before the next window's start
      long next = from + aggregation.advanceMs();
      contributors.forEach(keyBytes, from, Math.min(to, next - 1), true, links::add);
      if (next <= to) {
        contributors.forEach(keyBytes, next, to, false, links::add);
      }
    }
    if (updates
        && current != null
        && java.util.Arrays.equals(currentKey, keyBytes)
        && current.timestamp() >= from
        && current.timestamp() <= to) {
      links.add(current);
      currentLinked = true;
    }
    SpanContext span = links.end(context.currentSystemTimeMs());
    Headers headers = new RecordHeaders(record.headers().toArray());
    settings.propagationHeaders().forEach(headers::remove);
    settings
        .injector()
        .inject(Context.root().with(Span.wrap(span)), headers, KafkaHeadersSetter.INSTANCE);
    return record.withHeaders(headers);
  }

  /** The links of one result, its span started with the first contributor. */
  private final class Links {
    private final byte[] keyBytes;
    private final String key;
    private final long start;
    private final long end;
    private final boolean update;
    private AggregateSpan span;
    private long count;
    private long linked;
    private long unlinked;

    Links(byte[] keyBytes, String key, long start, long end, boolean update) {
      this.keyBytes = keyBytes;
      this.key = key;
      this.start = start;
      this.end = end;
      this.update = update;
    }

    void add(Contribution contribution) {
      if (span == null) {
        open(contribution);
      }
      count++;
      if (!contribution.linked()) {
        unlinked++;
        return;
      }
      linked++;
      List<TraceContext> contexts = contribution.contexts();
      for (int i = 0; i < contexts.size(); i++) {
        AttributesBuilder attributes =
            Attributes.builder()
                .put(WindowEmission.DESTINATION, contribution.topic())
                .put(WindowEmission.PARTITION, Integer.toString(contribution.partition()))
                .put(WindowEmission.OFFSET, contribution.offset());
        if (i > 0) {
          attributes
              .put(WindowEmission.REASON, "terminated_context")
              .put(WindowEmission.CONTEXT_HEADERS, contexts.get(i).format());
        }
        span.link(contexts.get(i), attributes.build());
      }
    }

    /**
     * Deterministic ids: a final result's from (application, processor, key, window); an update's
     * also from its first contributor, since updates of one window link disjoint records.
     */
    private void open(Contribution first) {
      String type = aggregation.kind.name();
      if (update) {
        type += "/update/" + first.topic() + "-" + first.partition() + "@" + first.offset();
      }
      DeterministicIds.WindowIds ids =
          DeterministicIds.forWindow(
              settings.applicationId(),
              aggregation.processor + "/" + HEX.formatHex(keyBytes),
              type,
              start,
              end);
      span = new AggregateSpan(shape, key, ids, context.currentSystemTimeMs());
    }

    SpanContext end(long nowMs) {
      if (span == null) {
        LOG.warn(
            "{}: result for key {} window [{}, {}) has no contributor left to link",
            aggregation.processor,
            key,
            start,
            end);
        open(new Contribution("", -1, -1, start, List.of(), null));
      }
      AttributesBuilder attributes =
          Attributes.builder()
              .put("messaging.batch.message_count", count)
              .put("correlator.links.linked", linked)
              .put("correlator.links.unlinked", unlinked)
              .put("correlator.emit", update ? "update" : "final");
      if (aggregation.kind != Kind.KEYED) {
        attributes
            .put("correlator.window.start", Instant.ofEpochMilli(start).toString())
            .put("correlator.window.end", Instant.ofEpochMilli(end).toString())
            .put("correlator.window.start_ms", start)
            .put("correlator.window.end_ms", end);
      }
      return span.end(attributes.build(), nowMs);
    }
  }

  private static String where(RecordMetadata source) {
    return source == null
        ? "(no source record)"
        : source.topic() + "-" + source.partition() + "@" + source.offset();
  }

  /** The task's context with {@code forward} passing through {@link #linked}. */
  @SuppressWarnings("unchecked")
  private ProcessorContext<KOut, VOut> intercepting(ProcessorContext<KOut, VOut> real) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "equals" -> proxy == args[0];
              case "hashCode" -> System.identityHashCode(proxy);
              default -> "linked(" + real + ")";
            };
          }
          Object[] actual = args;
          if (method.getName().equals("forward")
              && args != null
              && args.length > 0
              && args[0] instanceof Record<?, ?> record) {
            actual = args.clone();
            actual[0] = linked(record);
          }
          try {
            return method.invoke(real, actual);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        };
    Class<?> type =
        real instanceof InternalProcessorContext<?, ?>
            ? InternalProcessorContext.class
            : ProcessorContext.class;
    return (ProcessorContext<KOut, VOut>)
        Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
  }
}
