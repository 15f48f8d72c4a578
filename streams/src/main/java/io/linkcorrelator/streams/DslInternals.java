package io.linkcorrelator.streams;

import java.lang.reflect.Field;
import org.apache.kafka.streams.errors.TopologyException;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.state.StateSerdes;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * What {@link LinkedProcessorWrapper} reads from Kafka Streams' DSL processor suppliers and stores
 * that their public types do not expose: the emit strategy and store name of an aggregation, the
 * time definition of a {@code suppress}, the KTable a processor reads from, a store's key serde.
 * Every read is by field name on classes of {@code org.apache.kafka.streams.kstream.internals}
 * (Kafka Streams 4.x); a field that is missing fails the topology build with a message that names
 * it, never a silent gap.
 */
final class DslInternals {

  private DslInternals() {}

  /** Whether the aggregation emits only when its window closes ({@code onWindowClose()}). */
  static boolean emitsOnWindowClose(String processor, Object aggregation) {
    EmitStrategy strategy = (EmitStrategy) read(processor, aggregation, "emitStrategy");
    return strategy.type() == EmitStrategy.StrategyType.ON_WINDOW_CLOSE;
  }

  /** The name of the DSL aggregation's own store. */
  static String storeName(String processor, Object aggregation) {
    return (String) read(processor, aggregation, "storeName");
  }

  /** Whether a suppress supplier's definition is {@code Suppressed.untilWindowCloses(...)}. */
  static boolean suppressesUntilWindowCloses(String processor, Object suppressSupplier) {
    Object suppressed = read(processor, suppressSupplier, "suppress");
    Object timeDefinition = read(processor, suppressed, "timeDefinition");
    boolean dropsTombstones = (Boolean) read(processor, suppressed, "safeToDropTombstones");
    return dropsTombstones && timeDefinition.getClass().getSimpleName().startsWith("WindowEnd");
  }

  /**
   * The processor supplier of the KTable that a KTable processor (suppress, filter, mapValues,
   * transformValues) reads from; null when there is none to find.
   */
  static Object parentSupplier(Object ktableProcessorSupplier) {
    for (String field : new String[] {"parentKTable", "parent"}) {
      Object parentTable = readOrNull(ktableProcessorSupplier, field);
      if (parentTable != null) {
        return readOrNull(parentTable, "processorSupplier");
      }
    }
    return null;
  }

  /** The key and value serdes of a DSL store, from under the decorators a context hands out. */
  static StateSerdes<?, ?> serdes(String processor, StateStore store) {
    StateStore current = store;
    while (true) {
      Object serdes = readOrNull(current, "serdes");
      if (serdes instanceof StateSerdes<?, ?> found) {
        return found;
      }
      if (!(current instanceof WrappedStateStore<?, ?, ?> wrapped)) {
        throw unsupported(processor, "no key serde found on store " + store.name());
      }
      current = wrapped.wrapped();
    }
  }

  private static Object read(String processor, Object target, String name) {
    Field field = field(target.getClass(), name);
    if (field == null) {
      throw unsupported(processor, "no field '" + name + "' on " + target.getClass().getName());
    }
    return get(field, target);
  }

  private static Object readOrNull(Object target, String name) {
    Field field = field(target.getClass(), name);
    return field == null ? null : get(field, target);
  }

  private static Object get(Field field, Object target) {
    try {
      field.setAccessible(true);
      return field.get(target);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new TopologyException(
          "link-correlator cannot read " + field + " of this Kafka Streams version: " + e);
    }
  }

  private static Field field(Class<?> type, String name) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      try {
        return c.getDeclaredField(name);
      } catch (NoSuchFieldException e) {
        // look further up
      }
    }
    return null;
  }

  private static TopologyException unsupported(String processor, String detail) {
    return new TopologyException(
        "processor "
            + processor
            + ": link-correlator does not know this Kafka Streams version's DSL internals ("
            + detail
            + "); it supports Kafka Streams 4.x");
  }
}
