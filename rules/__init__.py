"""dockaudit's built-in rules, registered through the ``dockaudit`` entry-point group."""
