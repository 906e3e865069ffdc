/**
 * The driver contract as JUnit 5 tests.
 *
 * <p>A driver proves itself by one test class that extends {@link dev.orchestra.tck.DriverTck} and
 * implements {@link dev.orchestra.tck.DriverTck#newDriver(String)}; every contract test is
 * inherited, grouped by concern in {@code @Nested} classes. The only dependency needed is {@code
 * dev.orchestra:orchestra-tck} in test scope.
 */
package dev.orchestra.tck;
