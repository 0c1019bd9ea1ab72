"""The material library (电子材料库): submit once, reuse (docs/materials.md)."""
