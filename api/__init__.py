"""HTTP and command-line front ends of the tracker."""
