"""The handlers of the centiaCRM v1 methods, one module per centia module.

Each handler gets a :class:`~polycrm.faces.centia.modules._common.Call` with
the parameters already parsed by the specs of
:data:`polycrm.faces.centia.table.METHODS`, maps the wire fields onto core
fields (:mod:`polycrm.faces.centia.maps`), makes one core call and renders
the ``response`` object. :mod:`._common` holds what several modules share;
:mod:`.catalogs` the generic lookup-list and input-list handlers.
"""
