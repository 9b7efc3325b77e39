"""Import and export of OneGrid layers (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, CSV).

Entry points: :func:`geodata.io.importer.import_file` and :func:`geodata.io.export.export_layer`.
"""
