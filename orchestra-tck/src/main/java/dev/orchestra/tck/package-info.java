/**
 * The driver contract as JUnit 5 tests, in two kits.
 *
 * <p>A driver proves itself by two test classes: one extends {@link dev.orchestra.tck.DriverTck},
 * the contract on a quiet platform, and one extends {@link dev.orchestra.tck.ReliabilityTck}, the
 * contract under faults, load, hostile input and interruption. Both implement {@link
 * dev.orchestra.tck.KitBase#newDriver(String)}, the one hook every driver must write; every test is
 * inherited, grouped by concern in {@code @Nested} classes. The only dependency needed is {@code
 * dev.orchestra:orchestra-tck} in test scope.
 */
package dev.orchestra.tck;
